// Who the studio serves. Any web page the user opens can make their browser send requests to
// the studio's port; three checks keep those pages out (docs/security.md):
// - Host: only the studio's own names (localhost, 127.0.0.1, [::1], the --host it was started
//   with) at its port. A DNS-rebinding page reaches the server under its own name and is refused.
// - State-changing methods (POST, PUT, PATCH, DELETE) need a same-origin Origin (or
//   Sec-Fetch-Site: same-origin), or the token in a header: cross-site form posts and fetches
//   are refused before any body is read.
// - With a non-loopback --host, every request needs the token: in a header, or the cookie the
//   page gets when it is opened with `?token=`, which the browser sends with the page's own
//   fetches, EventSource streams and <img> loads (HttpOnly, SameSite=Strict).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AccessOptions {
  /** the interface the studio listens on (default 127.0.0.1) */
  host?: string;
  /** more Host names to accept (e.g. the name a reverse proxy forwards) */
  allowedHosts?: readonly string[];
  /** the access token (default: 32 random bytes, hex) */
  token?: string;
  /** whether every request needs the token (default: when `host` is not a loopback address) */
  requireToken?: boolean;
}

export const TOKEN_HEADER = 'x-convlens-token';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

export const isLoopbackHost = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
};

/** `name[:port]` as URL parsing normalizes it (lower case, IPv6 in brackets, default port dropped), or undefined. */
function parseHost(value: string): { hostname: string; port: number | undefined } | undefined {
  if (!value || /[\s/\\@?#]/.test(value)) return undefined;
  try {
    const u = new URL(`http://${value}`);
    return { hostname: u.hostname, port: u.port === '' ? 80 : Number(u.port) };
  } catch {
    return undefined;
  }
}

const bracket = (h: string): string => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h).toLowerCase();

function sameSecret(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // a malformed escape ("%", "%zz") is no token; it answered 500 on every route
      }
    }
  }
  return undefined;
}

export class AccessPolicy {
  readonly token: string;
  readonly requireToken: boolean;
  readonly host: string;
  private readonly names = new Set<string>(['localhost', '127.0.0.1', '[::1]']);

  constructor(
    options: AccessOptions = {},
    /** the port the server is bound to, once it listens (before that, e.g. under inject, any port) */
    private readonly boundPort: () => number | undefined = () => undefined,
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.token = options.token ?? randomBytes(32).toString('hex');
    this.requireToken = options.requireToken ?? !isLoopbackHost(this.host);
    if (WILDCARDS.has(this.host)) {
      // Listening on every interface: the machine's own addresses and name are its Host names.
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) this.names.add(bracket(a.address.replace(/%.*$/, '')));
      this.names.add(hostname().toLowerCase());
    } else this.names.add(bracket(this.host));
    for (const h of options.allowedHosts ?? []) this.names.add(bracket(h));
  }

  /** The cookie the page's token is kept in (per port: cookies are shared between the ports of a host). */
  cookieName(): string {
    return `convlens-token-${this.boundPort() ?? 'studio'}`;
  }

  /** Whether a Host header names this studio. */
  hostAllowed(value: string | undefined): boolean {
    const h = parseHost(value ?? '');
    if (!h || !this.names.has(h.hostname)) return false;
    const port = this.boundPort();
    return port === undefined || h.port === port;
  }

  /** Whether the request says it comes from the studio's own page (Origin, else Sec-Fetch-Site). */
  sameOrigin(req: FastifyRequest): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (origin === 'null') return false;
      const o = parseHost(origin.replace(/^https?:\/\//i, ''));
      const h = parseHost(req.headers.host ?? '');
      return !!o && !!h && /^https?:\/\//i.test(origin) && o.hostname === h.hostname && o.port === h.port;
    }
    return req.headers['sec-fetch-site'] === 'same-origin';
  }

  /** Where a valid token came with the request, if it did. */
  tokenIn(req: FastifyRequest): 'header' | 'cookie' | 'query' | undefined {
    const header = req.headers[TOKEN_HEADER];
    const auth = req.headers.authorization;
    if (sameSecret(typeof header === 'string' ? header : undefined, this.token)) return 'header';
    if (auth && /^(bearer|token) /i.test(auth) && sameSecret(auth.replace(/^\S+ /, '').trim(), this.token)) return 'header';
    if (sameSecret(cookie(req, this.cookieName()), this.token)) return 'cookie';
    const q = (req.query as Record<string, unknown> | undefined)?.['token'];
    if (typeof q === 'string' && sameSecret(q, this.token)) return 'query';
    return undefined;
  }

  /** The URL to print: with the token when it is required. */
  url(address: string): string {
    return this.requireToken ? `${address}/?token=${this.token}` : `${address}/`;
  }
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  hint: string;
}

function refuse(req: FastifyRequest, reply: FastifyReply, r: Refusal): FastifyReply {
  const wantsPage = req.method === 'GET' && !req.url.startsWith('/api/') && /text\/html/.test(req.headers.accept ?? '');
  if (wantsPage) {
    const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return reply.status(r.status).type('text/html; charset=utf-8').send(`<!doctype html><title>ConvLens studio</title><p>${esc(r.message)}</p><p>${esc(r.hint)}</p>`);
  }
  return reply.status(r.status).send({ error: { code: r.code, message: r.message, hint: r.hint } });
}

/**
 * What a request's Origin says against the address it was sent to, for the refusal: a script that
 * sent Origin: http://localhost:7860 to 127.0.0.1:7860 was told only to send "an Origin naming the
 * studio's address", which it thought it had. Both are shortened and quoted as the host check does.
 */
function originMismatch(req: FastifyRequest): string {
  const origin = req.headers.origin;
  if (origin === undefined) return ' (no Origin header)';
  const quote = (s: string): string => JSON.stringify(s.slice(0, 100));
  return ` (its Origin ${quote(origin)} is not the address it was sent to, ${quote(`http://${req.headers.host ?? ''}`)})`;
}

/** Installs the checks as the first hook of every request (static files included). */
export function registerAccessControl(app: FastifyInstance, policy: AccessPolicy): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!policy.hostAllowed(req.headers.host)) {
      return refuse(req, reply, {
        status: 403,
        code: 'FORBIDDEN',
        message: `This studio does not answer to the host name ${JSON.stringify((req.headers.host ?? '').slice(0, 100))}.`,
        hint: 'Open it at the address `convlens studio` printed (localhost). A page reaching it under another name may be a DNS-rebinding attack; to serve other names, start it with --host.',
      });
    }
    const token = policy.tokenIn(req);
    if (policy.requireToken && !token) {
      return refuse(req, reply, {
        status: 401,
        code: 'UNAUTHORIZED',
        message: 'This studio needs its access token.',
        hint: `Open the URL \`convlens studio\` printed (it ends in ?token=...), or send the token in the ${TOKEN_HEADER} header.`,
      });
    }
    if (STATE_CHANGING.has(req.method) && token !== 'header' && !policy.sameOrigin(req)) {
      return refuse(req, reply, {
        status: 403,
        code: 'FORBIDDEN',
        message: `${req.method} ${req.url.split('?')[0]} refused: the request does not come from the studio's own page${originMismatch(req)}.`,
        hint: `Scripts send the token in the ${TOKEN_HEADER} header (or an Origin header naming the address they send to, scheme, host and port as in the URL: localhost and 127.0.0.1 are two origins); a web page of another origin cannot change the studio.`,
      });
    }
    if (token === 'query' && req.method === 'GET') {
      // The page was opened with ?token=: keep it in a cookie the browser sends with the page's own requests.
      reply.header('set-cookie', `${policy.cookieName()}=${policy.token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    return undefined;
  });
}
