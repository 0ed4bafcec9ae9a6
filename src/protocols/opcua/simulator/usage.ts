// `gridgate simulate opcua --help`. Kept apart from the option parser so that the CLI can show it
// without loading node-opcua.

export const PASSWORD_ENV = 'GRIDGATE_SIM_OPCUA_PASSWORD';

export const OPCUA_USAGE = `Usage: gridgate simulate opcua [options]

Serves a substation's tags (2 feeders: P, Q, V, I, breaker; a transformer's tap and oil
temperature; frequency; mode) and optional synthetic tags as an OPC UA server with security on,
values changing every --update-ms. NodeIds are ns=1;s=<name> in namespace urn:gridgate:simulator,
e.g. ns=1;s=Substation.Feeder1.P, ns=1;s=Sim.Tag00001. Read-only. Prints one JSON status line on
stdout when serving (endpoint, certificate thumbprint, policies); logs (pino JSON) go to stderr.
Stops on SIGINT/SIGTERM.

Server
  --listen HOST:PORT        where to listen (default 127.0.0.1:4840; port 0: any free port)
  --pki DIR                 server PKI folder: its certificate and key are created there once and
                            reused (default \${XDG_STATE_HOME:-~/.local/state}/gridgate/opcua-simulator/pki)
  --security secure|all     secure: Sign and SignAndEncrypt with Basic256Sha256,
                            Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss (default); all: also None
  --trust-clients all|pki   all: accept any valid client certificate, log its thumbprint (default);
                            pki: only those in DIR/trusted/certs (refused ones land in DIR/rejected)

Users
  --user NAME               accept UserName tokens for NAME; the password is read from the
                            environment variable ${PASSWORD_ENV} (never a flag)
  --no-anonymous            refuse anonymous sessions (needs --user)

Values
  --tags N                  synthetic Double tags Sim.Tag00001…Sim.TagN for load (default 0)
  --update-ms MS            how often every value changes (default 100)
  --log-level LEVEL         fatal, error, warn, info, debug, trace (default info)

Examples
  gridgate simulate opcua --listen 0.0.0.0:4840
  ${PASSWORD_ENV}=secret gridgate simulate opcua --user operator --no-anonymous --trust-clients pki
  gridgate simulate opcua --listen 127.0.0.1:0 --tags 10000 --update-ms 100 --pki /tmp/sim-pki
Exit status: 0 stopped by a signal, 1 could not start (address in use, PKI folder not writable), 64 usage error.`;
