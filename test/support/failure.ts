// The error a promise rejects with, required to be a ConvLensError (a TypeError or an ONNX Runtime
// stack is the failure these tests look for); fails the test when the promise resolves.
import { expect } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';

export async function failure(p: Promise<unknown>): Promise<ConvLensError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConvLensError);
    return e as ConvLensError;
  }
  throw new Error('expected an error');
}
