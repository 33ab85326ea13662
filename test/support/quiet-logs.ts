import { setLogSink } from '#shared/log';

// Handlers log one JSON line per request; thousands of them bury test failures.
// Tests that assert on logs install their own sink. TEST_LOGS=1 shows them all.
if (process.env.TEST_LOGS !== '1') setLogSink(() => {});
