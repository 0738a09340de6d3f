// Generates the wallet-signature test vectors that WalverBot's C# tests replay.
//
// The point is independence: signatures are made here by ethers (EIP-191 personal_sign) and
// tweetnacl (Ed25519), encoded with bs58 and Node's Buffer, and the C# side checks them with
// Nethereum, NSec and SimpleBase. Keys come from fixed seeds and both signature schemes are
// deterministic, so running this again writes byte-identical files.
//
// Usage: npm ci && npm run generate   (see README.md)

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet, verifyMessage, recoverAddress, hashMessage, keccak256, toUtf8Bytes, getAddress, version as ethersVersion } from "ethers";
import nacl from "tweetnacl";
import bs58 from "bs58";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "..", "tests", "WalverBot.Tests", "Security", "Vectors");

// ---------- helpers ----------

const seed = (label) => createHash("sha256").update(`walverbot test vector seed: ${label}`).digest();

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const encodings = {
  "0x-hex": (b) => "0x" + hex(b),
  "bare-hex": (b) => hex(b),
  "upper-hex": (b) => "0x" + hex(b).toUpperCase(),
  base58: (b) => bs58.encode(Buffer.from(b)),
  base64: (b) => Buffer.from(b).toString("base64"),
  "base64-unpadded": (b) => Buffer.from(b).toString("base64").replace(/=+$/, ""),
  "base64-url": (b) => Buffer.from(b).toString("base64url"),
  "json-array": (b) => JSON.stringify(Array.from(b)),
  "json-array-spaced": (b) => "[ " + Array.from(b).join(", ") + " ]",
};

// The shape of message we assume Walver asks wallets to sign: it names the service, the wallet
// and the verification id. Walver does not document the exact text; see MessageBinding.cs.
function walverMessage({ service, wallet, verificationId, nonce, issuedAt }) {
  return [
    `${service} is asking you to verify ownership of this wallet with Walver.io.`,
    "",
    `Wallet: ${wallet}`,
    `Verification ID: ${verificationId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${issuedAt}`,
  ].join("\n");
}

const ISSUED_AT = "2025-06-01T12:00:00Z";
const nonceOf = (label) => seed(`nonce ${label}`).subarray(0, 8).toString("hex");

// secp256k1 group order, for the malleated (high-s) variant.
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
// Ed25519 group order L, for the non-canonical S variant.
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

const bigFromBE = (b) => BigInt("0x" + (hex(b) || "0"));
const bigToBE = (n, len) => Buffer.from(n.toString(16).padStart(len * 2, "0"), "hex");
const bigFromLE = (b) => bigFromBE(Buffer.from(b).reverse());
const bigToLE = (n, len) => bigToBE(n, len).reverse();

function vector(v) {
  const { name, chain, wallet_address, verification_id, message, signature, encoding, signatureResult, bindingResult, note } = v;
  const out = {
    name,
    chain,
    wallet_address,
    verification_id,
    message,
    signature,
    encoding,
    expect: { signature: signatureResult, binding: bindingResult },
  };
  if (note) out.note = note;
  return out;
}

function assert(cond, what) {
  if (!cond) throw new Error(`self-check failed: ${what}`);
}

// ---------- EVM ----------

function evmVectors() {
  const alice = new Wallet(keccak256(seed("evm alice")));
  const mallory = new Wallet(keccak256(seed("evm mallory")));
  const v = [];
  const service = "Example Guild";
  const vid = "wb-7f3a9c21-holders";

  const sign = (wallet, message) => {
    const sigHex = wallet.signMessageSync(message);
    const bytes = Buffer.from(sigHex.slice(2), "hex");
    assert(bytes.length === 65, "EVM signature is 65 bytes");
    assert(verifyMessage(message, sigHex) === wallet.address, "ethers recovers the signer");
    return bytes;
  };

  const baseMsg = walverMessage({ service, wallet: alice.address, verificationId: vid, nonce: nonceOf("evm base"), issuedAt: ISSUED_AT });
  const baseSig = sign(alice, baseMsg);
  const common = { chain: "ethereum", wallet_address: alice.address, verification_id: vid, message: baseMsg };

  // Valid, every accepted encoding.
  for (const [enc, f] of Object.entries(encodings)) {
    v.push(vector({ ...common, name: `evm-valid-${enc}`, signature: f(baseSig), encoding: enc, signatureResult: "ok", bindingResult: "ok" }));
  }

  // Address forms: the webhook's wallet_address lowercase, message checksummed, and the reverse.
  v.push(vector({ ...common, name: "evm-valid-lowercase-wallet-address", wallet_address: alice.address.toLowerCase(),
    signature: encodings["0x-hex"](baseSig), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  v.push(vector({ ...common, name: "evm-valid-uppercase-wallet-address", wallet_address: "0x" + alice.address.slice(2).toUpperCase(),
    signature: encodings["0x-hex"](baseSig), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  {
    const msg = walverMessage({ service, wallet: alice.address.toLowerCase(), verificationId: vid, nonce: nonceOf("evm lower"), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: "evm-valid-lowercase-address-in-message", message: msg,
      signature: encodings["0x-hex"](sign(alice, msg)), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  }

  // Every EVM chain Walver lists, one valid vector each (same scheme on all of them).
  for (const chain of ["polygon", "bsc", "base", "arbitrum", "optimism", "avalanche"]) {
    const msg = walverMessage({ service, wallet: alice.address, verificationId: `${vid}-${chain}`, nonce: nonceOf(`evm ${chain}`), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: `evm-valid-chain-${chain}`, chain, verification_id: `${vid}-${chain}`, message: msg,
      signature: encodings["0x-hex"](sign(alice, msg)), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  }

  // Non-ASCII message: EIP-191's length prefix counts UTF-8 bytes, not characters.
  {
    const msg = walverMessage({ service: "Gänsefüßchen Guild 🦆 — Ω", wallet: alice.address, verificationId: vid, nonce: nonceOf("evm unicode"), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: "evm-valid-unicode-message", message: msg,
      signature: encodings["0x-hex"](sign(alice, msg)), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  }

  // CRLF line endings are part of the signed bytes and must not be normalised away.
  {
    const msg = baseMsg.replace(/\n/g, "\r\n");
    v.push(vector({ ...common, name: "evm-valid-crlf-message", message: msg,
      signature: encodings["0x-hex"](sign(alice, msg)), encoding: "0x-hex", signatureResult: "ok", bindingResult: "ok" }));
  }

  // v as 0/1 (some hardware wallets and libraries) instead of 27/28.
  {
    const b = Buffer.from(baseSig);
    b[64] = b[64] - 27;
    v.push(vector({ ...common, name: "evm-valid-v-as-recovery-id", signature: encodings["0x-hex"](b), encoding: "0x-hex",
      signatureResult: "ok", bindingResult: "ok", note: "last byte is 0/1 rather than 27/28" }));
  }

  // Wrong key: Mallory signs a message naming Alice's wallet.
  v.push(vector({ ...common, name: "evm-wrong-key", signature: encodings["0x-hex"](sign(mallory, baseMsg)), encoding: "0x-hex",
    signatureResult: "wrong_signer", bindingResult: "ok", note: "signed by a different key than wallet_address" }));

  // Tampered message: Alice's signature, but the verification id in the text was changed afterwards.
  {
    const tampered = baseMsg.replace(vid, "wb-00000000-admins");
    v.push(vector({ ...common, name: "evm-tampered-message", message: tampered, verification_id: "wb-00000000-admins",
      signature: encodings["0x-hex"](baseSig), encoding: "0x-hex", signatureResult: "wrong_signer", bindingResult: "ok",
      note: "message edited after signing; recovery yields some other address" }));
    const oneChar = baseMsg.slice(0, -1) + (baseMsg.endsWith("Z") ? "Y" : "Z");
    v.push(vector({ ...common, name: "evm-tampered-message-last-char", message: oneChar,
      signature: encodings["0x-hex"](baseSig), encoding: "0x-hex", signatureResult: "wrong_signer", bindingResult: "ok" }));
  }

  // Valid signatures over messages that do not bind to this delivery.
  {
    const other = "Sign in to some-other-dapp.example\nNonce: 12345";
    v.push(vector({ ...common, name: "evm-valid-signature-message-without-address", message: other,
      signature: encodings["0x-hex"](sign(alice, other)), encoding: "0x-hex", signatureResult: "ok", bindingResult: "address_not_in_message",
      note: "a genuine signature made for something else; the binding check must refuse it" }));
    const otherVerification = walverMessage({ service: "Other Guild", wallet: alice.address, verificationId: "wb-other-guild-vip", nonce: nonceOf("evm other"), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: "evm-valid-signature-other-verification-id", message: otherVerification,
      signature: encodings["0x-hex"](sign(alice, otherVerification)), encoding: "0x-hex", signatureResult: "ok",
      bindingResult: "verification_id_not_in_message", note: "replay of a signature made for another verification" }));
  }

  // Malformed.
  const malformed = (name, signature, encoding, signatureResult, note) =>
    v.push(vector({ ...common, name, signature, encoding, signatureResult, bindingResult: "ok", note }));
  malformed("evm-malformed-truncated", encodings["0x-hex"](baseSig.subarray(0, 64)), "0x-hex", "bad_encoding", "64 bytes");
  malformed("evm-malformed-extra-byte", encodings["0x-hex"](Buffer.concat([baseSig, Buffer.from([0])])), "0x-hex", "bad_encoding", "66 bytes");
  malformed("evm-malformed-odd-hex", encodings["0x-hex"](baseSig).slice(0, -1), "0x-hex", "bad_encoding", "odd number of hex digits");
  malformed("evm-malformed-non-hex", "0x" + "zz".repeat(65), "0x-hex", "bad_encoding");
  malformed("evm-malformed-garbage", "definitely not a signature!", "garbage", "bad_encoding");
  malformed("evm-malformed-empty", "", "empty", "bad_encoding");
  malformed("evm-malformed-whitespace", "   \t\n ", "empty", "bad_encoding");
  malformed("evm-malformed-0x-only", "0x", "0x-hex", "bad_encoding");
  malformed("evm-malformed-json-out-of-range", JSON.stringify([...Array.from(baseSig.subarray(0, 64)), 256]), "json-array", "bad_encoding", "a value of 256");
  malformed("evm-malformed-json-negative", JSON.stringify([...Array.from(baseSig.subarray(0, 64)), -1]), "json-array", "bad_encoding");
  malformed("evm-malformed-json-strings", JSON.stringify(Array.from(baseSig).map(String)), "json-array", "bad_encoding", "numbers as strings");
  malformed("evm-malformed-json-object", JSON.stringify(Object.fromEntries(Array.from(baseSig).map((x, i) => [i, x]))), "json-object", "bad_encoding",
    "JSON.stringify(Uint8Array) gives an object, which is not an accepted encoding");
  malformed("evm-malformed-solana-length", encodings["0x-hex"](baseSig.subarray(0, 64)), "0x-hex", "bad_encoding", "a 64-byte (Ed25519-sized) signature on an EVM chain");
  {
    const b = Buffer.from(baseSig); b[64] = 29;
    malformed("evm-invalid-v", encodings["0x-hex"](b), "0x-hex", "invalid_signature", "v = 29");
  }
  {
    const r = bigFromBE(baseSig.subarray(0, 32));
    const s = bigFromBE(baseSig.subarray(32, 64));
    const high = Buffer.concat([bigToBE(r, 32), bigToBE(SECP256K1_N - s, 32), Buffer.from([baseSig[64] === 27 ? 28 : 27])]);
    malformed("evm-invalid-high-s", encodings["0x-hex"](high), "0x-hex", "invalid_signature",
      "malleated twin (s' = n - s, v flipped): recovers the same address, refused as non-canonical per EIP-2");
    const zeroR = Buffer.concat([Buffer.alloc(32), baseSig.subarray(32)]);
    malformed("evm-invalid-zero-r", encodings["0x-hex"](zeroR), "0x-hex", "invalid_signature", "r = 0");
    malformed("evm-invalid-all-zero", encodings["0x-hex"](Buffer.concat([Buffer.alloc(64), Buffer.from([27])])), "0x-hex", "invalid_signature", "r = s = 0");
    const bigR = Buffer.concat([Buffer.alloc(32, 0xff), baseSig.subarray(32)]);
    malformed("evm-invalid-r-over-field", encodings["0x-hex"](bigR), "0x-hex", "invalid_signature", "r >= field size");
  }
  {
    // Flipping a bit of r gives either another curve point (some other signer recovers) or an x
    // with no point at all (nothing recovers). ethers decides which; one vector of each.
    const recoversWith = (b) => {
      try { return recoverAddress(hashMessage(baseMsg), "0x" + hex(b)); } catch { return null; }
    };
    let recoverable = null, unrecoverable = null;
    for (let bit = 0; bit < 256 && !(recoverable && unrecoverable); bit++) {
      const b = Buffer.from(baseSig); b[31 - (bit >> 3)] ^= 1 << (bit & 7);
      const who = recoversWith(b);
      if (who && who !== alice.address && !recoverable) recoverable = { b, bit };
      if (!who && !unrecoverable) unrecoverable = { b, bit };
    }
    assert(recoverable && unrecoverable, "found both kinds of bit flip");
    malformed("evm-flipped-bit-other-signer", encodings["0x-hex"](recoverable.b), "0x-hex", "wrong_signer",
      `bit ${recoverable.bit} of r flipped; ethers recovers some other address`);
    malformed("evm-flipped-bit-unrecoverable", encodings["0x-hex"](unrecoverable.b), "0x-hex", "invalid_signature",
      `bit ${unrecoverable.bit} of r flipped; ethers recovers no key (r is not the x of a curve point)`);
  }

  // Addresses that are not EVM-shaped.
  v.push(vector({ ...common, name: "evm-bad-address-short", wallet_address: "0x1234", signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "bad_address", bindingResult: "address_not_in_message" }));
  v.push(vector({ ...common, name: "evm-bad-address-no-prefix", wallet_address: alice.address.slice(2), signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "bad_address", bindingResult: "address_not_in_message",
    note: "the bare 40 hex digits occur only inside the 0x-prefixed address, which is not a match of the whole token" }));
  v.push(vector({ ...common, name: "evm-bad-address-solana", wallet_address: "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT", signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "bad_address", bindingResult: "address_not_in_message" }));

  // Chains outside the supported list.
  v.push(vector({ ...common, name: "unsupported-chain-bitcoin", chain: "bitcoin", signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "unsupported_chain", bindingResult: "ok" }));
  v.push(vector({ ...common, name: "unsupported-chain-empty", chain: "", signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "unsupported_chain", bindingResult: "ok" }));
  v.push(vector({ ...common, name: "evm-valid-chain-name-case", chain: "Ethereum", signature: encodings["0x-hex"](baseSig), encoding: "0x-hex",
    signatureResult: "ok", bindingResult: "ok", note: "chain names are matched case-insensitively" }));

  assert(getAddress(alice.address) === alice.address, "checksummed");
  return { keys: { alice: alice.address, mallory: mallory.address }, vectors: v };
}

// ---------- Solana ----------

function solanaVectors() {
  const alice = nacl.sign.keyPair.fromSeed(seed("solana alice"));
  const mallory = nacl.sign.keyPair.fromSeed(seed("solana mallory"));
  const aliceAddr = bs58.encode(alice.publicKey);
  const malloryAddr = bs58.encode(mallory.publicKey);
  const v = [];
  const service = "Example Guild";
  const vid = "wb-51b0e2d4-sol-holders";

  const sign = (kp, message) => {
    const sig = nacl.sign.detached(toUtf8Bytes(message), kp.secretKey);
    assert(sig.length === 64, "Ed25519 signature is 64 bytes");
    assert(nacl.sign.detached.verify(toUtf8Bytes(message), sig, kp.publicKey), "tweetnacl verifies");
    return Buffer.from(sig);
  };

  const baseMsg = walverMessage({ service, wallet: aliceAddr, verificationId: vid, nonce: nonceOf("sol base"), issuedAt: ISSUED_AT });
  const baseSig = sign(alice, baseMsg);
  const common = { chain: "solana", wallet_address: aliceAddr, verification_id: vid, message: baseMsg };

  for (const [enc, f] of Object.entries(encodings)) {
    v.push(vector({ ...common, name: `sol-valid-${enc}`, signature: f(baseSig), encoding: enc, signatureResult: "ok", bindingResult: "ok" }));
  }
  {
    const msg = walverMessage({ service: "Gänsefüßchen Guild 🦆 — Ω", wallet: aliceAddr, verificationId: vid, nonce: nonceOf("sol unicode"), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: "sol-valid-unicode-message", message: msg, signature: encodings.base58(sign(alice, msg)), encoding: "base58",
      signatureResult: "ok", bindingResult: "ok" }));
  }
  v.push(vector({ ...common, name: "sol-valid-chain-name-case", chain: "SOLANA", signature: encodings.base58(baseSig), encoding: "base58",
    signatureResult: "ok", bindingResult: "ok" }));

  v.push(vector({ ...common, name: "sol-wrong-key", signature: encodings.base58(sign(mallory, baseMsg)), encoding: "base58",
    signatureResult: "invalid_signature", bindingResult: "ok", note: "signed by a different key than wallet_address" }));
  v.push(vector({ ...common, name: "sol-wrong-key-own-address", wallet_address: malloryAddr, signature: encodings.base58(baseSig), encoding: "base58",
    signatureResult: "invalid_signature", bindingResult: "address_not_in_message", note: "Alice's signature presented for Mallory's wallet" }));
  {
    const tampered = baseMsg.replace(vid, "wb-00000000-admins");
    v.push(vector({ ...common, name: "sol-tampered-message", message: tampered, verification_id: "wb-00000000-admins",
      signature: encodings.base58(baseSig), encoding: "base58", signatureResult: "invalid_signature", bindingResult: "ok" }));
    v.push(vector({ ...common, name: "sol-tampered-message-trailing-newline", message: baseMsg + "\n",
      signature: encodings.base58(baseSig), encoding: "base58", signatureResult: "invalid_signature", bindingResult: "ok" }));
  }
  {
    const other = "Sign in to some-other-dapp.example\nNonce: 12345";
    v.push(vector({ ...common, name: "sol-valid-signature-message-without-address", message: other,
      signature: encodings.base58(sign(alice, other)), encoding: "base58", signatureResult: "ok", bindingResult: "address_not_in_message" }));
    const otherVerification = walverMessage({ service: "Other Guild", wallet: aliceAddr, verificationId: "wb-other-guild-vip", nonce: nonceOf("sol other"), issuedAt: ISSUED_AT });
    v.push(vector({ ...common, name: "sol-valid-signature-other-verification-id", message: otherVerification,
      signature: encodings.base58(sign(alice, otherVerification)), encoding: "base58", signatureResult: "ok", bindingResult: "verification_id_not_in_message" }));
  }

  const malformed = (name, signature, encoding, signatureResult, note) =>
    v.push(vector({ ...common, name, signature, encoding, signatureResult, bindingResult: "ok", note }));
  malformed("sol-malformed-truncated", encodings.base58(baseSig.subarray(0, 60)), "base58", "bad_encoding", "60 bytes");
  {
    // Base58's alphabet is a subset of base64's: 63 bytes of base58 are 86 characters, which also
    // read as unpadded base64 of exactly 64 bytes. That reading is tried, and fails to verify.
    const text = encodings.base58(baseSig.subarray(0, 63));
    const asBase64 = Buffer.from(text, "base64");
    malformed("sol-malformed-truncated-reads-as-base64", text, "base58", asBase64.length === 64 ? "invalid_signature" : "bad_encoding",
      `63 bytes of base58; as base64 it reads as ${asBase64.length} bytes`);
  }
  malformed("sol-malformed-extra-byte", encodings.base58(Buffer.concat([baseSig, Buffer.from([1])])), "base58", "bad_encoding", "65 bytes");
  malformed("sol-malformed-truncated-hex", encodings["0x-hex"](baseSig.subarray(0, 63)), "0x-hex", "bad_encoding");
  malformed("sol-malformed-evm-length", encodings["0x-hex"](Buffer.concat([baseSig, Buffer.from([27])])), "0x-hex", "bad_encoding", "a 65-byte (EVM-sized) signature on Solana");
  malformed("sol-malformed-base58-bad-chars", encodings.base58(baseSig).slice(0, -4) + "0OIl", "garbage", "bad_encoding", "0, O, I and l are not base58");
  malformed("sol-malformed-garbage", "¯\\_(ツ)_/¯", "garbage", "bad_encoding");
  malformed("sol-malformed-empty", "", "empty", "bad_encoding");
  malformed("sol-malformed-json-short", JSON.stringify(Array.from(baseSig.subarray(0, 32))), "json-array", "bad_encoding");
  malformed("sol-malformed-json-float", JSON.stringify(Array.from(baseSig)).replace(/^\[(\d+)/, "[$1.5"), "json-array", "bad_encoding");
  malformed("sol-malformed-json-nested", JSON.stringify([Array.from(baseSig)]), "json-array", "bad_encoding");
  {
    const b = Buffer.from(baseSig); b[0] ^= 0x01;
    malformed("sol-flipped-bit", encodings.base58(b), "base58", "invalid_signature", "one bit of R flipped");
    malformed("sol-all-zero", encodings.base58(Buffer.alloc(64)), "base58", "invalid_signature");
  }
  {
    // S + L: tweetnacl accepts it (it does not check S < L); libsodium, and so WalverBot, refuse it.
    const R = baseSig.subarray(0, 32);
    const S = bigFromLE(baseSig.subarray(32));
    const nonCanonical = Buffer.concat([R, bigToLE(S + ED25519_L, 32)]);
    const tweetnaclAccepts = nacl.sign.detached.verify(toUtf8Bytes(baseMsg), nonCanonical, alice.publicKey);
    malformed("sol-invalid-non-canonical-s", encodings.base58(nonCanonical), "base58", "invalid_signature",
      `S + L (malleated twin); tweetnacl ${tweetnaclAccepts ? "accepts" : "refuses"} it, libsodium refuses it`);
  }

  v.push(vector({ ...common, name: "sol-bad-address-short", wallet_address: bs58.encode(alice.publicKey.subarray(0, 31)),
    signature: encodings.base58(baseSig), encoding: "base58", signatureResult: "bad_address", bindingResult: "address_not_in_message", note: "decodes to 31 bytes" }));
  v.push(vector({ ...common, name: "sol-bad-address-evm", wallet_address: "0x52908400098527886E0F7030069857D2E4169EE7",
    signature: encodings.base58(baseSig), encoding: "base58", signatureResult: "bad_address", bindingResult: "address_not_in_message" }));
  v.push(vector({ ...common, name: "sol-bad-address-invalid-chars", wallet_address: "0OIl" + aliceAddr.slice(4),
    signature: encodings.base58(baseSig), encoding: "base58", signatureResult: "bad_address", bindingResult: "address_not_in_message" }));

  return { keys: { alice: aliceAddr, mallory: malloryAddr }, vectors: v };
}

// ---------- write ----------

function installedVersion(pkg) {
  return JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;
}

function write(file, family, { keys, vectors }) {
  const names = new Set();
  for (const x of vectors) {
    assert(!names.has(x.name), `unique name ${x.name}`);
    names.add(x.name);
  }
  const doc = {
    family,
    generated_by: "tools/test-vectors/generate.mjs",
    libraries: { ethers: ethersVersion, tweetnacl: installedVersion("tweetnacl"), bs58: installedVersion("bs58") },
    keys,
    vectors,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, file), JSON.stringify(doc, null, 2) + "\n");
  console.log(`${file}: ${vectors.length} vectors`);
}

write("evm.json", "evm", evmVectors());
write("solana.json", "solana", solanaVectors());
