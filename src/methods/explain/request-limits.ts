// Bounds of a studio explanation request that the page's fields share with the server's schema
// (no imports: the page bundle takes this file as is).

/**
 * Coalitions per image a request may ask of KernelSHAP or LIME: the page's field stops here too
 * (it offered the library's 10,000 while the server refused more than 2,000).
 */
export const REPORT_MAX_SEGMENT_SAMPLES = 2000;
