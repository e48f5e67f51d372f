import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The release server with demo data on a fresh SQLite file, on its own port. Build it first (scripts/build, which
// scripts/test runs). Set SRA_E2E_BASE_URL to test a server that is already running instead.
const port = Number(process.env.SRA_E2E_PORT ?? 3107);
const external = process.env.SRA_E2E_BASE_URL;
const dataDir = mkdtempSync(join(tmpdir(), 'sra-e2e-'));

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: external ?? `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download cannot work on these machines.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: external
    ? undefined
    : {
        command: `../target/release/sra-server --demo --log-level warn --port ${port} --data-dir ${dataDir} --site-root ../target/site`,
        url: `http://127.0.0.1:${port}/readyz`,
        timeout: 60_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
      },
});
