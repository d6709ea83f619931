// oidc-provider, configured as Gardien's OpenID Provider is, for
// gardien-load's side-by-side measure: the code flow with PKCE S256, one
// web app per signing algorithm (RS256, ES256) authenticating with
// client_secret_basic, opaque access tokens, the same ID token claims.
// People log in at its development login page (any login, any password)
// and their consent is kept, so that later sign-ins need no page, as in
// Gardien (whose apps are trusted by their organization). It keeps
// everything in memory (its default adapter): it pays for no database.
//
// Settings: PORT (0: any), REDIRECT_URI. It prints "serving on URL".
import Provider from "oidc-provider";
import { generateKeyPairSync } from "node:crypto";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
const redirect = process.env.REDIRECT_URI;
const client = (id, alg) => ({
  client_id: id, client_secret: "load-test-secret-" + id, redirect_uris: [redirect],
  grant_types: ["authorization_code", "refresh_token"], response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic", id_token_signed_response_alg: alg,
});
const people = new Map();
const issuer = `http://127.0.0.1:${process.env.PORT || 0}`;
const provider = new Provider(issuer, {
  clients: [client("rs256", "RS256"), client("es256", "ES256")],
  jwks: { keys: [{ ...rsa, alg: "RS256", use: "sig", kid: "rs" }, { ...ec, alg: "ES256", use: "sig", kid: "ec" }] },
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  conformIdTokenClaims: false, // the ID token says who signed in, as Gardien's does
  // A code stands on its sign-in, not on the browser's session (as in
  // Gardien): a later sign-in in the same browser leaves it good.
  expiresWithSession: () => false,
  features: { devInteractions: { enabled: true } },
  ttl: { AccessToken: 15 * 60, AuthorizationCode: 60, IdToken: 3600, Session: 12 * 3600, Grant: 12 * 3600, Interaction: 600 },
  async findAccount(ctx, id) {
    if (!people.has(id)) people.set(id, { email: `${id}@example.com`, name: id });
    const p = people.get(id);
    return { accountId: id, claims: () => ({ sub: id, email: p.email, email_verified: true, name: p.name }) };
  },
  async loadExistingGrant(ctx) {
    // A grant once given covers the next sign-ins (Gardien's apps are trusted).
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});
provider.on("server_error", (ctx, err) => console.error("server_error", err));
if (process.env.DEBUG_GRANTS) provider.on("grant.error", (ctx, err) => console.error("grant.error", err.error_detail || err.message));
const server = provider.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  const { port } = server.address();
  provider.issuer; // fixed at construction: the port is taken before (PORT)
  console.log(`serving on http://127.0.0.1:${port}`);
});
