// Query strings and path parameters are closed as JSON bodies are (unknown-keys.test.ts): a
// parameter a route does not take, a key given twice, a prototype key or a malformed number is
// a 400 that names it (bounded), never an answer computed without it. Every API route takes the
// access token as `?token=`.
import { describe, expect, it } from 'vitest';
import { inProcessStudio } from './page-inject.js';

const { inject } = inProcessStudio();

const get = (url: string) => inject({ method: 'GET', url });

describe('query strings of the API', () => {
  const refused: [what: string, url: string, message: RegExp][] = [
    ['a misspelt parameter', '/api/models/builtin/filters?layr=conv1', /^Unknown field "layr" \(querystring\/layr\)\.$/],
    ['a parameter of a route that takes none', '/api/models?sort=name', /^Unknown field "sort" \(querystring\/sort\)\.$/],
    ['a parameter of the health check', '/api/health?verbose=1', /^Unknown field "verbose"/],
    ['__proto__', '/api/models/builtin/filters?__proto__=1', /^Unknown field "__proto__"/],
    ['constructor', '/api/images?constructor=1', /^Unknown field "constructor"/],
    ['a key of a megabyte-long name, quoted bounded', `/api/health?${'k'.repeat(8000)}=1`, /^Unknown field "k{64}\.\.\." \(querystring\/k{64}\.\.\.; the key is 8000 characters long\)\.$/],
    ['a layer given twice', '/api/models/builtin/filters?layer=conv1&layer=conv2', /^The query parameter "layer" is given 2 times \(querystring\/layer\); it takes one value\.$/],
    ['an image id given three times', '/api/image?id=a/b&id=c/d&id=e/f', /^The query parameter "id" is given 3 times/],
    ['an over-long layer', `/api/models/builtin/filters?layer=${'x'.repeat(300)}`, /querystring\/layer must NOT have more than 256 characters/],
    // numbers are checked before any store is opened (the store named here does not exist)
    ['a channel that is no number', '/api/dataset/stores/none/top?layer=conv1&channel=abc', /querystring\/channel must be a whole number in decimal digits; got "abc"/],
    ['a negative channel', '/api/dataset/stores/none/top?layer=conv1&channel=-1', /querystring\/channel must be >= 0/],
    ['an infinite channel (Ajv let Infinity past integer and maximum)', '/api/dataset/stores/none/top?layer=conv1&channel=Infinity', /^querystring\/channel must be a whole number in decimal digits; got "Infinity"\.$/],
    ['a NaN channel', '/api/dataset/stores/none/top?layer=conv1&channel=NaN', /querystring\/channel must be/],
    ['a channel of 1e400', '/api/dataset/stores/none/top?layer=conv1&channel=1e400', /querystring\/channel must be a whole number in decimal digits; got "1e400"/],
    ['a hexadecimal channel', '/api/dataset/stores/none/top?layer=conv1&channel=0x10', /got "0x10"/],
    ['an infinite image number', '/api/dataset/stores/none/images/Infinity', /^params\/n must be a whole number in decimal digits/],
    ['a fractional k', '/api/dataset/stores/none/top?layer=conv1&channel=1&k=1.5', /querystring\/k must be a whole number/],
    ['a guided flag that is no boolean', '/api/dataset/stores/none/top?layer=conv1&channel=1&guided=yes', /querystring\/guided must be boolean/],
    ['a negative image number', '/api/dataset/stores/none/images/-1', /params\/n must be >= 0/],
    ['a fractional image number', '/api/dataset/stores/none/images/1.5', /params\/n must be a whole number/],
    ['a store id that climbs out', '/api/dataset/stores/..%2F..%2Fetc/channels?layer=x', /params\/id must match pattern/],
    ['a style network id that is no id', '/api/style-nets/..%2F..%2Fetc/onnx', /params\/id must match pattern/],
  ];
  for (const [what, url, message] of refused) {
    it(`refuses ${what} with a 400 naming it`, async () => {
      const r = await get(url);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.code).toBe('INVALID_ARGUMENT');
      expect(r.json().error.message).toMatch(message);
      expect(r.body.length).toBeLessThan(1000);
    });
  }

  it('names what the route takes, and the nearest parameter', async () => {
    const r = await get('/api/models/builtin/filters?layr=conv1');
    expect(r.json().error.hint).toMatch(/Did you mean "layer"\? querystring takes layer, token\./);
  });

  it('takes the access token and the parameters a route lists', async () => {
    expect((await get('/api/health?token=anything')).statusCode).toBe(200);
    const r = await get('/api/models/builtin/filters?layer=conv2&token=x');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().layer).toBe('conv2');
  });

  it('a duplicated token is no token and no crash', async () => {
    expect((await get('/api/health?token=a&token=b')).statusCode).toBe(400);
  });
});

describe('prototype keys in JSON bodies', () => {
  const bodies: [what: string, body: string][] = [
    ['__proto__ at the top', '{"model":"builtin","image":"fashion-mnist/bag-test18.png","__proto__":{"polluted":1}}'],
    ['__proto__ inside params', '{"model":"builtin","image":"fashion-mnist/bag-test18.png","methods":["saliency"],"params":{"__proto__":{"polluted":1}}}'],
    ['constructor.prototype', '{"model":"builtin","image":"fashion-mnist/bag-test18.png","constructor":{"prototype":{"polluted":1}}}'],
  ];
  for (const [what, payload] of bodies) {
    it(`refuses ${what} with a 400 that says why, and pollutes nothing`, async () => {
      const r = await inject({ method: 'POST', url: '/api/explain', payload, headers: { 'content-type': 'application/json' } });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.message).toMatch(/holds a "__proto__" key or a "constructor" with a "prototype"/);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  }

  it('a "constructor" field that is no prototype is an unknown field like any other', async () => {
    const r = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', constructor: 1 } });
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().error.message).toMatch(/^Unknown field "constructor"/);
  });
});
