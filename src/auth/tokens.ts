import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, createRemoteJWKSet, errors as joseErrors, type JWTPayload } from 'jose';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Clock } from '../lib/time.ts';
import { unauthenticated } from '../lib/errors.ts';
import { viewerOf, type Viewer } from './viewer.ts';

export const TOKEN_ISSUER = 'arrears';
const API_KEY_PREFIX = 'ak_';
/** Last use of an API key is written at most this often, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface AuthOptions {
  jwtSecret: string;
  /** External identity provider: its keys, issuer and audience. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

export async function signToken(
  secret: string,
  user: { id: string; email: string },
  options: { expiresInSeconds?: number; now?: Date } = {},
): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ email: user.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TOKEN_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 12 * 3600))
    .sign(new TextEncoder().encode(secret));
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new API key: the secret, shown once, and what is stored (its hash and a display prefix). */
export function newApiKey(): { secret: string; hash: string; prefix: string } {
  const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, 11) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Authenticator {
  private readonly secretKey: Uint8Array;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
    private readonly options: AuthOptions,
  ) {
    this.secretKey = new TextEncoder().encode(options.jwtSecret);
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  }

  /** The viewer of an `Authorization` header; null when there is none; a GraphQL error when it is bad. */
  async authenticate(header: string | null | undefined): Promise<Viewer | null> {
    if (header === null || header === undefined || header.trim() === '') return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>".');
    const token = m[1]!;
    return token.startsWith(API_KEY_PREFIX) ? this.fromApiKey(token) : this.fromJwt(token);
  }

  private async fromJwt(token: string): Promise<Viewer> {
    let payload: JWTPayload;
    const currentDate = this.clock.now();
    try {
      if (this.jwks && this.isExternal(token)) {
        ({ payload } = await jwtVerify(token, this.jwks, {
          currentDate,
          ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
          ...(this.options.audience ? { audience: this.options.audience } : {}),
        }));
      } else {
        ({ payload } = await jwtVerify(token, this.secretKey, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          currentDate,
        }));
      }
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired.');
      throw unauthenticated('Invalid token.');
    }
    const email = typeof payload.email === 'string' ? payload.email.toLowerCase() : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    const user = sub && UUID.test(sub)
      ? await this.prisma.user.findUnique({ where: { id: sub } })
      : email
        ? await this.prisma.user.findUnique({ where: { email } })
        : null;
    if (!user || !user.active || (email !== undefined && user.email !== email)) {
      throw unauthenticated('Unknown or inactive user.');
    }
    return viewerOf(user, 'JWT');
  }

  /** A token not issued by Arrears itself (its issuer differs): verified with the provider's keys. */
  private isExternal(token: string): boolean {
    try {
      const body = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
      return body.iss !== TOKEN_ISSUER;
    } catch {
      return false;
    }
  }

  private async fromApiKey(key: string): Promise<Viewer> {
    const now = this.clock.now();
    const row = await this.prisma.apiKey.findUnique({ where: { hash: hashApiKey(key) }, include: { user: true } });
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now) || !row.user.active) {
      throw unauthenticated('Invalid or revoked API key.');
    }
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } });
    }
    return viewerOf(row.user, 'API_KEY', row.id, {
      persistedOnly: row.persistedOnly,
      budget: row.costMaximum !== null && row.costRestoreRate !== null ? { maximumAvailable: row.costMaximum, restoreRate: row.costRestoreRate } : null,
    });
  }
}
