/**
 * TLS files are read and parsed once at start, so that a bad one stops the node with a ConfigError
 * naming the setting and the file. Left to grpc-js, an unparsable client CA is accepted silently
 * (the node reports SERVING and every client then fails with an opaque UNAVAILABLE), and a bad
 * certificate or key fails with OpenSSL's "PEM routines::no start line", which names no file.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config/index.js';

const certificateBegin = /-----BEGIN CERTIFICATE-----/g;
const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function readSettingFile(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${setting} ${file} cannot be read: ${reason(error)}`);
  }
}

/**
 * A certificate file or CA bundle: one or more PEM certificates, every one of which parses. Text
 * between the blocks (openssl's subject= lines) is allowed, as OpenSSL allows it; a block that
 * begins and never ends is not.
 */
export function readCertificates(setting: string, file: string): Buffer {
  const bytes = readSettingFile(setting, file);
  const text = bytes.toString('latin1');
  const blocks = text.match(certificateBlock) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${setting} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  if ((text.match(certificateBegin) ?? []).length !== blocks.length) throw new ConfigError(`${setting} ${file} holds a certificate that begins and never ends`);
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(`${setting} ${file}: certificate ${index + 1} of ${blocks.length} does not parse (${reason(error)})`);
    }
  });
  return bytes;
}

/** A PEM private key, unencrypted (nothing at start could supply a passphrase). */
export function readPrivateKey(setting: string, file: string): Buffer {
  const bytes = readSettingFile(setting, file);
  try {
    createPrivateKey(bytes);
  } catch (error) {
    throw new ConfigError(`${setting} ${file} is not a usable PEM private key (${reason(error)})`);
  }
  return bytes;
}

export interface KeyPairFiles {
  certSetting: string;
  certFile: string;
  keySetting: string;
  keyFile: string;
}

/** A certificate chain and its private key, each parsed, and checked to belong together. */
export function readKeyPair(files: KeyPairFiles): { cert: Buffer; key: Buffer } {
  const cert = readCertificates(files.certSetting, files.certFile);
  const key = readPrivateKey(files.keySetting, files.keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(`${files.keySetting} ${files.keyFile} does not match ${files.certSetting} ${files.certFile} (${reason(error)})`);
  }
  return { cert, key };
}
