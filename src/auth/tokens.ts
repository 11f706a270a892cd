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
/** The longest lifetime a JWT may claim unless configured (ARREARS_JWT_MAX_TTL): 12 hours. */
export const DEFAULT_JWT_MAX_TTL_SECONDS = 12 * 3600;
/** Clock skew allowed between an identity provider and us when checking a token's lifetime. */
const CLOCK_TOLERANCE_SECONDS = 60;

/** A refused API key, for the audit of denials (the key is never passed on, only its display prefix). */
export interface ApiKeyFailure {
  reason: 'UNKNOWN' | 'REVOKED' | 'EXPIRED' | 'INACTIVE_USER';
  prefix: string;
  apiKeyId?: string;
  userId?: string;
  clientAddress?: string;
  requestId?: string;
}

/** Where a request comes from, when the caller knows it: passed on to the audit of failed keys. */
export interface AuthAttempt {
  clientAddress?: string;
  requestId?: string;
}

export interface AuthOptions {
  jwtSecret: string;
  /** External identity provider: its keys, issuer and audience. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** The longest lifetime a JWT may have, in seconds (exp − iat, and exp − now). Default 12 h. */
  maxTtlSeconds?: number | undefined;
  /** Told of every refused API key (fire and forget: it must not throw). */
  onApiKeyFailure?: ((failure: ApiKeyFailure) => void) | undefined;
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
  async authenticate(header: string | null | undefined, attempt: AuthAttempt = {}): Promise<Viewer | null> {
    if (header === null || header === undefined || header.trim() === '') return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>".');
    const token = m[1]!;
    return token.startsWith(API_KEY_PREFIX) ? this.fromApiKey(token, attempt) : this.fromJwt(token);
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
    this.checkLifetime(payload, currentDate);
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

  /**
   * A token must say when it ends, and not too far away: a stolen token with no `exp`, or one a
   * century out, would outlive any deactivation of its holder's other credentials. Both the
   * lifetime it was issued with (exp − iat) and what is left of it (exp − now) count, so a
   * token cannot dodge the rule with an `iat` in the future.
   */
  private checkLifetime(payload: JWTPayload, currentDate: Date): void {
    const maxTtl = this.options.maxTtlSeconds ?? DEFAULT_JWT_MAX_TTL_SECONDS;
    if (typeof payload.exp !== 'number') throw unauthenticated('Token has no expiry (exp).');
    const now = Math.floor(currentDate.getTime() / 1000);
    const issued = typeof payload.iat === 'number' ? payload.iat : now;
    if (payload.exp - issued > maxTtl || payload.exp - now > maxTtl + CLOCK_TOLERANCE_SECONDS) {
      throw unauthenticated(`Token lifetime is over the limit of ${maxTtl} seconds.`);
    }
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

  private async fromApiKey(key: string, attempt: AuthAttempt): Promise<Viewer> {
    const now = this.clock.now();
    const row = await this.prisma.apiKey.findUnique({ where: { hash: hashApiKey(key) }, include: { user: true } });
    const reason: ApiKeyFailure['reason'] | null = !row
      ? 'UNKNOWN'
      : row.revokedAt
        ? 'REVOKED'
        : row.expiresAt && row.expiresAt <= now
          ? 'EXPIRED'
          : !row.user.active
            ? 'INACTIVE_USER'
            : null;
    if (reason || !row) {
      this.options.onApiKeyFailure?.({
        reason: reason ?? 'UNKNOWN',
        // The display prefix only (what an admin sees on the key), never the secret.
        prefix: key.slice(0, 11),
        ...(row ? { apiKeyId: row.id, userId: row.userId } : {}),
        ...(attempt.clientAddress ? { clientAddress: attempt.clientAddress } : {}),
        ...(attempt.requestId ? { requestId: attempt.requestId } : {}),
      });
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
