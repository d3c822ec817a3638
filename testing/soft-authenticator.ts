import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * A WebAuthn authenticator in software, for the service tests: ES256 keys from node:crypto, "none" attestation,
 * answers shaped as @simplewebauthn/browser returns them. It signs for whatever RP ID and origin it is told, so a
 * test can play a phishing site or a cloned authenticator.
 */

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

// The CBOR subset an attestation needs: unsigned and negative integers, byte and text strings, maps.
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
}
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function cbor(value: Cbor): Buffer {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  return Buffer.concat([head(2, value.length), Buffer.from(value)]);
}

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  userHandle: string;
  signCount: number;
}

export interface Ceremony {
  origin: string;
  rpId: string;
  /** Off: the authenticator reports that the person was not verified (no PIN or biometric). */
  userVerified?: boolean;
}

function clientData(type: "webauthn.create" | "webauthn.get", challenge: string, origin: string): string {
  return b64url(Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })));
}

function flags(ceremony: Ceremony, extra = 0): number {
  return UP | (ceremony.userVerified === false ? 0 : UV) | extra;
}

function counterBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Creates a credential for `options` (what generateRegistrationOptions answered) and the browser's answer. */
export function createCredential(options: { challenge: string; user: { id: string } }, ceremony: Ceremony) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const coseKey = cbor(
    new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, "base64url")],
      [-3, Buffer.from(jwk.y!, "base64url")],
    ]),
  );
  const rawId = randomBytes(16);
  const idLength = Buffer.from([rawId.length >> 8, rawId.length & 0xff]);
  const authData = Buffer.concat([sha256(ceremony.rpId), Buffer.from([flags(ceremony, AT)]), counterBytes(0), Buffer.alloc(16), idLength, rawId, coseKey]);
  const attestationObject = cbor(
    new Map<Cbor, Cbor>([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", authData],
    ]),
  );
  const id = b64url(rawId);
  const credential: SoftCredential = { id, privateKey, publicKey, userHandle: options.user.id, signCount: 0 };
  const response = {
    id,
    rawId: id,
    type: "public-key",
    response: {
      clientDataJSON: clientData("webauthn.create", options.challenge, ceremony.origin),
      attestationObject: b64url(attestationObject),
      transports: ["internal"],
    },
    clientExtensionResults: {},
    authenticatorAttachment: "platform",
  };
  return { credential, response };
}

/** Signs `challenge` with `credential`, counting one use (or reporting `signCount` as given). */
export function assert(credential: SoftCredential, challenge: string, ceremony: Ceremony & { signCount?: number }) {
  credential.signCount = ceremony.signCount ?? credential.signCount + 1;
  const clientDataJSON = clientData("webauthn.get", challenge, ceremony.origin);
  const authenticatorData = Buffer.concat([sha256(ceremony.rpId), Buffer.from([flags(ceremony)]), counterBytes(credential.signCount)]);
  const signature = sign("sha256", Buffer.concat([authenticatorData, sha256(Buffer.from(clientDataJSON, "base64url"))]), credential.privateKey);
  return {
    id: credential.id,
    rawId: credential.id,
    type: "public-key",
    response: { clientDataJSON, authenticatorData: b64url(authenticatorData), signature: b64url(signature), userHandle: credential.userHandle },
    clientExtensionResults: {},
    authenticatorAttachment: "platform",
  };
}
