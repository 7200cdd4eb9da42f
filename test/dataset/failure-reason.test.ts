// A chunk's failure reason, as a scan prints it ("Chunk 0 (images 0..9) failed once: <reason>"):
// the worker's text ends in one full stop, and a reason cut at the cap keeps its "..."; a
// 300-character cap with the dots turned into a stop cut a worker's way out ("Start the worker
// with the folders it may read (CLI: --data-root ...") off a dataset path and read as whole.
import { describe, expect, it } from 'vitest';
import { reasonSentence } from '../../src/methods/dataset/wire.js';

describe('a worker\'s failure reason in a sentence', () => {
  it('ends in one full stop', () => {
    expect(reasonSentence('refused by worker 7: no such layer')).toBe('refused by worker 7: no such layer.');
    expect(reasonSentence('refused by worker 7: no such layer.')).toBe('refused by worker 7: no such layer.');
    expect(reasonSentence('refused..')).toBe('refused.');
  });

  it('keeps a reason that names a long folder whole, its way out included', () => {
    const folder = `/home/someone/${'datasets/'.repeat(20)}photos`;
    const reason = `refused by worker 7: dataset is refused: Dataset "${folder}" is outside the folders this scan worker reads from. Start the worker with the folders it may read (CLI: --data-root <folder>, repeatable; its working folder when left out).`;
    expect(reason.length).toBeGreaterThan(300);
    expect(reasonSentence(reason)).toBe(reason);
  });

  it('cuts a reason past the cap with "...", not a full stop, and takes control characters out', () => {
    const planted = `${'x'.repeat(5000)}.`;
    const s = reasonSentence(planted);
    expect(s).toBe(`${'x'.repeat(1000)}...`);
    expect(reasonSentence('line one\nline two\u202e')).toBe('line one line two .');
  });
});
