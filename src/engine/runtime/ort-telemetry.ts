// onnxruntime-node 1.30 for Linux starts Microsoft's telemetry when it loads: it keeps an event
// database in ~/.cache/Microsoft/DeveloperTools/.onnxruntime (megabytes, growing with every
// session), writes `.ses` and an empty `mat-debug-<pid>.log` into the temp folder per process
// (thousands in /tmp after a test run or a day of use) and sends the events over HTTPS where it
// finds a CA bundle. ConvLens promises to run offline and leave nothing behind, so it turns that
// off before the library loads, unless the user set ORT_DISABLE_TELEMETRY themselves. Node only:
// imported by node.ts ahead of onnxruntime-node (ES modules run their imports in order).
process.env['ORT_DISABLE_TELEMETRY'] ??= '1';

export {};
