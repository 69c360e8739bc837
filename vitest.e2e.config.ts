import { defineConfig } from 'vitest/config';

/**
 * The e2e tests: the built site in system Chromium (tests/e2e/harness.ts builds and serves it).
 * Files run one after another — each launches its own browser, and SwiftShader (the software GPU
 * behind WebGL and WebGPU here) wants every core it can get.
 */
// CI sets TEST_REPORT_DIR to collect a JSON report per suite (for its 'N passed, N failed' line).
const reportDir = process.env.TEST_REPORT_DIR;

export default defineConfig({
  test: {
    reporters: reportDir ? ['default', ['json', { outputFile: `${reportDir}/e2e.json` }]] : ['default'],
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/e2e/harness.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
