import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, StatusCodes, type StatusCode } from 'node-opcua';
import type { Logger } from '../../../observability/logger.js';
import type { ResolvedOptions, TrustClients } from './options.js';

// Endpoints, certificate stores and user check of the simulator.
//
// PKI layout (node-opcua's, under pkiDir):
//
//   own/certs/certificate.pem     the server certificate, self-signed, created by the first start
//   own/private/private_key.pem   its RSA 2048 key (created by the first start too)
//   trusted/certs/                client certificates accepted with --trust-clients pki
//   rejected/                     client certificates refused with --trust-clients pki
//   user/                         store for X.509 user tokens (unused; kept out of ~/.config)
//
// The certificate is never recreated while the file exists, so a restart on the same pkiDir serves
// the same thumbprint and clients that trusted it keep trusting it.

export const SECURE_POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss] as const;

export function endpointSecurity(choice: ResolvedOptions['security']): { securityPolicies: SecurityPolicy[]; securityModes: MessageSecurityMode[] } {
  const secure = { securityPolicies: [...SECURE_POLICIES], securityModes: [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt] };
  if (choice === 'secure') return secure;
  return { securityPolicies: [SecurityPolicy.None, ...secure.securityPolicies], securityModes: [MessageSecurityMode.None, ...secure.securityModes] };
}

/** The policy's short name (Basic256Sha256) for logs and the status line. */
export const policyName = (uri: string): string => uri.slice(uri.indexOf('#') + 1);

/** Verification results that only say "not in trusted/": what --trust-clients all lets through. */
const UNKNOWN_ONLY = new Set(['BadCertificateUntrusted', 'BadCertificateRevocationUnknown', 'BadCertificateIssuerRevocationUnknown']);

/**
 * The server's store, with the client trust policy and its logs (once per thumbprint).
 *
 * all: a client certificate that is valid (signature, dates) but not in trusted/ is accepted.
 * Unlike node-opcua's automaticallyAcceptUnknownCertificate it is not copied into trusted/, so
 * switching to pki later trusts nothing by accident.
 * pki: node-opcua's check; an unknown certificate is refused and filed in rejected/, and the
 * warning says where to move it.
 */
class SimulatorCertificateManager extends OPCUACertificateManager {
  readonly #seen = new Set<string>();
  readonly #trust: TrustClients;
  readonly #log: Logger;

  constructor(rootFolder: string, trust: TrustClients, log: Logger) {
    super({ rootFolder, automaticallyAcceptUnknownCertificate: false });
    this.#trust = trust;
    this.#log = log;
  }

  override checkCertificate(chain: Buffer | Buffer[]): Promise<StatusCode>;
  override checkCertificate(chain: Buffer | Buffer[], callback: (err: Error | null, status?: StatusCode) => void): void;
  override checkCertificate(chain: Buffer | Buffer[], callback?: (err: Error | null, status?: StatusCode) => void): Promise<StatusCode> | void {
    const verdict = this.#verdict(chain);
    if (!callback) return verdict;
    verdict.then(
      (status) => callback(null, status),
      (err: Error) => callback(err),
    );
  }

  async #verdict(chain: Buffer | Buffer[]): Promise<StatusCode> {
    const certificates = Array.isArray(chain) ? chain : [chain];
    const thumbprint = createHash('sha1').update(certificates[0]!).digest('hex');
    let status: StatusCode;
    if (this.#trust === 'pki') {
      status = await super.checkCertificate(chain);
    } else {
      const result: string = await this.verifyCertificate(Buffer.concat(certificates), { acceptCertificateWithValidIssuerChain: true });
      const known = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[result];
      status = result === 'Good' || UNKNOWN_ONLY.has(result) ? StatusCodes.Good : (known ?? StatusCodes.BadCertificateInvalid);
    }
    const first = !this.#seen.has(`${thumbprint}:${status.value}`);
    this.#seen.add(`${thumbprint}:${status.value}`);
    if (!first) return status;
    if (status.isGood()) this.#log.info({ thumbprint, trustClients: this.#trust }, 'client certificate accepted');
    else {
      const hint = this.#trust === 'pki' && status.equals(StatusCodes.BadCertificateUntrusted) ? ` (filed in ${this.rootDir}/rejected: move it to trusted/certs to accept it)` : '';
      this.#log.warn({ thumbprint, status: status.name }, `client certificate refused${hint}`);
    }
    return status;
  }
}

export interface CertificateStores {
  server: OPCUACertificateManager;
  user: OPCUACertificateManager;
}

/** The server's store (its own certificate, client trust) and the user-token store, both under pkiDir. */
export function certificateStores(o: ResolvedOptions, log: Logger): CertificateStores {
  const server = new SimulatorCertificateManager(o.pkiDir, o.trustClients, log);
  const user = new OPCUACertificateManager({ rootFolder: join(o.pkiDir, 'user'), automaticallyAcceptUnknownCertificate: false });
  return { server, user };
}

/** UserName tokens checked against the configured users; the comparison takes the same time for any password. */
export function userManager(users: ReadonlyMap<string, string>): { isValidUser(username: string, password: string): boolean } {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  const expected = new Map([...users].map(([name, password]) => [name, digest(password)]));
  return {
    isValidUser(username, password) {
      const want = expected.get(username);
      const got = digest(typeof password === 'string' ? password : '');
      return want !== undefined && timingSafeEqual(want, got);
    },
  };
}
