import { X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OPCUACertificateManager } from 'node-opcua';

// The client's PKI folder (node-opcua's layout, the OPC UA GDS one):
//
//   <pki>/own/certs/client_certificate.pem   our application certificate, created once, then kept
//   <pki>/own/private/private_key.pem        its key
//   <pki>/trusted/certs/                     server certificates (or their CAs) we trust
//   <pki>/trusted/crl/, issuers/certs|crl/   CA certificates and revocation lists
//   <pki>/rejected/                          certificates we refused: an operator moves one to
//                                            trusted with `gridgate opcua trust`
//
// Unknown server certificates are rejected (never accepted automatically): they land in rejected/
// and the source logs the command that trusts them.

/** A source's PKI folder: its own `pki`, else <state.dir>/opcua/pki (shared by the site's OPC UA sources). */
export function pkiDirOf(source: { name: string; pki?: string | undefined }, stateDir: string | undefined): string {
  if (source.pki) return source.pki;
  if (!stateDir) throw new Error(`opcua source ${source.name}: no pki folder configured and no state.dir`);
  return join(stateDir, 'opcua', 'pki');
}

export interface CertificateInfo {
  /** SHA-1 of the DER, lower-case hex without separators (what OPC UA calls the thumbprint). */
  thumbprint: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  file?: string;
}

export function certificateInfo(certificate: Buffer | string, file?: string): CertificateInfo {
  const x = new X509Certificate(certificate);
  return {
    thumbprint: x.fingerprint.replace(/:/g, '').toLowerCase(),
    subject: x.subject.replace(/\n/g, ', '),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    ...(file ? { file } : {}),
  };
}

/** A certificate manager on the folder, initialised (folders created); dispose() it when done (it watches the folders). */
export async function openPki(dir: string): Promise<OPCUACertificateManager> {
  // node-opcua takes a second to load: only the commands that open a PKI pay for it.
  const { OPCUACertificateManager } = await import('node-opcua');
  const manager = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: false });
  await manager.initialize();
  return manager;
}

/** The certificates in one of the PKI's folders (trusted/certs or rejected); unreadable files are skipped. */
export async function listCertificates(dir: string, folder: 'trusted' | 'rejected'): Promise<CertificateInfo[]> {
  const path = folder === 'trusted' ? join(dir, 'trusted', 'certs') : join(dir, 'rejected');
  const names = await readdir(path).catch(() => [] as string[]);
  const found: CertificateInfo[] = [];
  for (const name of names.sort()) {
    try {
      found.push(certificateInfo(await readFile(join(path, name)), join(path, name)));
    } catch {
      // not a certificate (a README, a CRL): not ours to judge here
    }
  }
  return found;
}

/** Our application certificate (node-opcua makes it at the first connect), with its file; undefined before that. */
export async function ownCertificate(dir: string): Promise<CertificateInfo | undefined> {
  const file = join(dir, 'own', 'certs', 'client_certificate.pem');
  return readFile(file).then(
    (pem) => certificateInfo(pem, file),
    () => undefined,
  );
}

/** The certificate rejected last (the one a failed connect just refused). */
export async function newestRejected(dir: string): Promise<CertificateInfo | undefined> {
  let newest: { info: CertificateInfo; mtimeMs: number } | undefined;
  for (const info of await listCertificates(dir, 'rejected')) {
    const s = await stat(info.file!).catch(() => undefined);
    if (s && (!newest || s.mtimeMs > newest.mtimeMs)) newest = { info, mtimeMs: s.mtimeMs };
  }
  return newest?.info;
}

/** Move the rejected certificate with this thumbprint (or a unique prefix of at least 8 digits) to trusted; returns it. */
export async function trustRejected(dir: string, thumbprint: string): Promise<CertificateInfo> {
  const wanted = thumbprint.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{8,40}$/.test(wanted)) throw new Error(`"${thumbprint}" is not a certificate thumbprint (SHA-1, hex)`);
  const rejected = await listCertificates(dir, 'rejected');
  const matches = rejected.filter((c) => c.thumbprint.startsWith(wanted));
  if (matches.length === 0) {
    const trusted = (await listCertificates(dir, 'trusted')).find((c) => c.thumbprint.startsWith(wanted));
    if (trusted) return trusted;
    throw new Error(`no rejected certificate with thumbprint ${wanted} in ${join(dir, 'rejected')} (rejected: ${rejected.map((c) => c.thumbprint).join(', ') || 'none'})`);
  }
  if (matches.length > 1) throw new Error(`thumbprint ${wanted} is ambiguous: ${matches.map((c) => c.thumbprint).join(', ')}`);
  const chosen = matches[0]!;
  const der = new X509Certificate(await readFile(chosen.file!)).raw;
  const manager = await openPki(dir);
  try {
    await manager.trustCertificate(der);
  } finally {
    await manager.dispose();
  }
  return chosen;
}
