// A self-signed certificate for localhost, made with openssl at test time (nothing secret in the repository).
// Valid for the name "localhost" and the address 127.0.0.1, so every client can verify it given the CA.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
  /** The temporary folder holding both (a test may put other files there; remove() deletes it all). */
  directory: string;
  /** Delete the files. */
  remove(): void;
}

/** Whether openssl can be run here; tests that need a certificate skip (with this reason) when not. */
export const OPENSSL_MISSING = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed: apt-get install openssl to run the TLS tests';
  }
})();

/** Make a fresh key and self-signed certificate in a temporary folder (call only when OPENSSL_MISSING is undefined). */
export function makeTestCertificate(): TestCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'handrolled-tls-'));
  const keyPath = join(directory, 'key.pem');
  const certPath = join(directory, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
  return {
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
    certPath,
    keyPath,
    directory,
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
