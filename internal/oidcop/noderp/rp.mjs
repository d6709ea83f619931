// An app that signs people in through Gardien with openid-client, driven a
// line at a time on stdin by internal/oidcop's tests; it answers each
// command with one line of JSON on stdout ({"error": …} when refused).
//
//   start [extra-params-as-query]  → {"url"}    the authorization URL (PKCE, state, nonce)
//   callback URL                   → {"sub", "claims", "refresh"}  the code exchanged, the ID token checked
//   userinfo                       → the userinfo answer (its sub checked against the ID token's)
//   refresh                        → {"sub", "claims", "refresh"}  a refresh token used
//   logout URL                     → {"url"}    RP-initiated logout, back to URL
//
// Settings come from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET ("" for a
// public app), REDIRECT_URI.
import * as client from "openid-client";
import * as readline from "node:readline";

const { ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const auth = CLIENT_SECRET ? client.ClientSecretBasic(CLIENT_SECRET) : client.None();
const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET || undefined, auth,
  { execute: [client.allowInsecureRequests] });
let pending, tokens;

async function handle(cmd, arg) {
  switch (cmd) {
    case "start": {
      const verifier = client.randomPKCECodeVerifier();
      pending = { verifier, state: client.randomState(), nonce: client.randomNonce() };
      const params = {
        redirect_uri: REDIRECT_URI, scope: "openid email profile offline_access",
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
        state: pending.state, nonce: pending.nonce,
        ...Object.fromEntries(new URLSearchParams(arg || "")),
      };
      return { url: client.buildAuthorizationUrl(config, params).href };
    }
    case "callback":
      tokens = await client.authorizationCodeGrant(config, new URL(arg), {
        pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
      });
      return { sub: tokens.claims().sub, claims: tokens.claims(), refresh: !!tokens.refresh_token };
    case "userinfo":
      return await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    case "refresh": {
      const idToken = tokens.id_token;
      tokens = await client.refreshTokenGrant(config, tokens.refresh_token);
      tokens.id_token ??= idToken;
      return { sub: tokens.claims().sub, claims: tokens.claims(), refresh: !!tokens.refresh_token };
    }
    case "logout":
      return { url: client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: arg, state: "bye" }).href };
  }
  throw new Error(`unknown command ${cmd}`);
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, ...rest] = line.trim().split(" ");
  let out;
  try {
    out = await handle(cmd, rest.join(" "));
  } catch (e) {
    out = { error: e.error || e.code || e.name, description: e.error_description || e.message };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
