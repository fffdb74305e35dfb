// TLS for our HTTP servers: the certificate and private key a server presents (https://, wss://), loaded from
// PEM files and checked before any socket is opened, so a wrong file is one clear error at start, not a
// failure on the first client. RFC 8446 (TLS 1.3) and RFC 9110 §4.2.2 (https) are node:tls's part.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A certificate chain and its private key, PEM-encoded. */
export interface TlsCredentials {
  cert: string | Buffer;
  key: string | Buffer;
}

/** A certificate or key file that cannot be used; the message names the file and the reason, in one line. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new TlsFileError(`cannot read TLS ${what} ${path}: ${reason}`);
  }
}

/**
 * Read a certificate and key from PEM files and check that they parse and belong together
 * (node:tls builds the context a server would). Throws TlsFileError otherwise.
 */
export function loadTlsCredentials(certPath: string, keyPath: string): TlsCredentials {
  const credentials = { cert: readPem(certPath, 'certificate'), key: readPem(keyPath, 'key') };
  try {
    createSecureContext(credentials);
  } catch (error) {
    const message = (error as Error).message.replaceAll('\n', ' ');
    // OpenSSL's words for the two usual mistakes, said plainly.
    const reason = message.includes('no start line') ? `a file is not the PEM certificate or key expected (${message})`
      : message.includes('key values mismatch') ? 'the key does not belong to the certificate' : message;
    throw new TlsFileError(`cannot use TLS certificate ${certPath} with key ${keyPath}: ${reason}`);
  }
  return credentials;
}
