// Vitest setup file (vitest.config.ts): after each test file, remove the temp folders it made through
// test/support/temp-folder.ts. Registered here, before the file's own hooks, so it runs after them
// (after hooks run in reverse order): servers and child processes are closed by then.
import { afterAll } from 'vitest';
import { removeTempFolders } from './temp-folder.js';

afterAll(removeTempFolders);
