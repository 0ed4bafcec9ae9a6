import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import type { OpcuaSourceConfig } from '../protocols/opcua/config.js';
import { listCertificates, ownCertificate, pkiDirOf, trustRejected, type CertificateInfo } from '../protocols/opcua/pki.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate opcua certs|trust`: the OPC UA PKI of a site, for the operator. The gateway never
// trusts a server certificate by itself: it keeps a refused one in <pki>/rejected and logs the
// `gridgate opcua trust` command with its thumbprint; the operator checks the thumbprint with the
// server's administrator and runs it. A running gateway picks the change up on its next retry.

export const opcuaCommand: Command = {
  summary: 'opcua certs|trust --config SITE                 the OPC UA PKI: list certificates, trust a rejected server',
  usage: `Usage: gridgate opcua certs --config SITE [--source NAME] [--json]
       gridgate opcua trust --config SITE [--source NAME] THUMBPRINT

certs lists the PKI of the site's OPC UA sources (their \`pki\`, else <state.dir>/opcua/pki): our
own application certificate (what a server's administrator must trust), the trusted server
certificates and the rejected ones, with SHA-1 thumbprints, subjects and expiry.

trust moves the rejected certificate with THUMBPRINT (the full 40 hex digits as the gateway's log
line gives them, or a unique prefix of at least 8) to the trusted folder. Check the thumbprint
with the server's administrator first: trusting it is what makes the session secure.
--source picks the source whose PKI is meant when sources have their own.`,

  async run(args) {
    const { values, positionals } = parseCommandArgs('opcua', args, { config: { type: 'string' }, source: { type: 'string' }, json: { type: 'boolean' } }, true);
    const [action, ...rest] = positionals;
    if (typeof values.config !== 'string' || (action !== 'certs' && action !== 'trust')) {
      throw new GatewayError('GW_ERR_USAGE', 'opcua: expected "certs --config SITE" or "trust --config SITE THUMBPRINT"');
    }
    const config = await loadConfig(values.config);
    const sources = config.sources.filter((s): s is OpcuaSourceConfig => s.type === 'opcua' && (values.source === undefined || s.name === values.source));
    if (sources.length === 0) throw new GatewayError('GW_ERR_USAGE', `opcua: no OPC UA source${values.source ? ` named ${String(values.source)}` : ''} in ${values.config}`);
    const dirs = [...new Set(sources.map((s) => pkiDirOf(s, config.state?.dir)))];

    if (action === 'trust') {
      if (rest.length !== 1) throw new GatewayError('GW_ERR_USAGE', 'opcua trust: expected one THUMBPRINT');
      if (dirs.length > 1) throw new GatewayError('GW_ERR_USAGE', `opcua trust: the sources use different PKI folders (${dirs.join(', ')}): name one with --source`);
      try {
        const trusted = await trustRejected(dirs[0]!, rest[0]!);
        process.stdout.write(`trusted ${trusted.subject} (thumbprint ${trusted.thumbprint}, expires ${trusted.notAfter.toISOString()}) in ${join(dirs[0]!, 'trusted', 'certs')}\n`);
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`gridgate opcua trust: ${(err as Error).message}\n`);
        return EXIT.FAILURE;
      }
    }

    if (rest.length > 0) throw new GatewayError('GW_ERR_USAGE', 'opcua certs: takes no arguments');
    const listing = [];
    for (const dir of dirs) {
      listing.push({ pki: dir, own: (await ownCertificate(dir)) ?? null, trusted: await listCertificates(dir, 'trusted'), rejected: await listCertificates(dir, 'rejected') });
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
      return EXIT.OK;
    }
    const line = (c: CertificateInfo): string => `    ${c.thumbprint}  ${c.subject}  (expires ${c.notAfter.toISOString().slice(0, 10)})`;
    for (const l of listing) {
      process.stdout.write(
        [
          `PKI ${l.pki}`,
          `  own (give this to the server's administrator):`,
          l.own ? line(l.own) : '    none yet: created at the gateway’s first connect',
          `  trusted (${l.trusted.length}):`,
          ...l.trusted.map(line),
          `  rejected (${l.rejected.length}):${l.rejected.length ? '   trust one with: gridgate opcua trust --config ' + values.config + ' THUMBPRINT' : ''}`,
          ...l.rejected.map(line),
          '',
        ].join('\n'),
      );
    }
    return EXIT.OK;
  },
};
