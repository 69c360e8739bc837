import { defineConfig } from 'vitest/config';

// CI sets TEST_REPORT_DIR to collect a JSON report per suite (for its 'N passed, N failed' line).
const reportDir = process.env.TEST_REPORT_DIR;

export default defineConfig({
  test: {
    reporters: reportDir ? ['default', ['json', { outputFile: `${reportDir}/unit.json` }]] : ['default'],
    include: ['tests/unit/**/*.test.ts', 'tests/gpu/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
