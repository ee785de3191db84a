// What each check-server check holds the server to, with where the spec says so. One place, so the report, the
// docs and the tests name the same rule.
export const RULES = {
  prmResource:
    'RFC 9728 §3 and §3.3: the protected-resource metadata at /.well-known/oauth-protected-resource<path> MUST have "resource" identical to the URL the client used; MCP authorization 2025-11-25 §Authorization Server Location: MCP servers MUST implement RFC 9728',
  prmAuthorizationServers:
    'MCP authorization 2025-11-25 §Authorization Server Location: the metadata MUST list the authorization server(s) in "authorization_servers" (RFC 9728 §2), here the sandbox realm',
  challengeBearer:
    'RFC 6750 §3 and MCP authorization 2025-11-25 §Error Handling: a request without an access token gets 401 with a WWW-Authenticate: Bearer challenge',
  challengeResourceMetadata:
    'RFC 9728 §5.1 and MCP authorization 2025-11-25 §Protected Resource Metadata Discovery Requirements: the 401 challenge carries resource_metadata, the metadata URL, which clients read first (MCP 2025-06-18 made it a MUST)',
  challengeScope:
    'MCP authorization 2025-11-25 §Scope Selection Strategy and RFC 6750 §3: a "scope" in the challenge names scopes the request needs, each listed in the metadata\'s scopes_supported when that is given',
  validToken:
    'MCP authorization 2025-11-25 §Token Handling: a valid access token issued for this resource by its authorization server is accepted (here: initialize and tools/list, protocol 2025-11-25)',
  wrongAudience:
    'MCP authorization 2025-11-25 §Token Handling: MCP servers MUST validate that tokens were issued specifically for them as the intended audience (RFC 8707 §2) and MUST reject others; RFC 6750 §3.1: 401 invalid_token',
  expired:
    'MCP authorization 2025-11-25 §Error Handling: invalid or expired tokens MUST receive 401; RFC 6750 §3.1: invalid_token',
  otherRealm:
    "MCP authorization 2025-11-25 §Token Handling: validate access tokens (OAuth 2.1 §5.2): only tokens from the authorization servers in the metadata; another issuer's token, even for this audience, gets 401 invalid_token",
  idToken:
    'RFC 8725 §3.11 and RFC 9068 §4: an ID token is not an access token (explicit typing: typ "ID" is not "Bearer"/"at+jwt"); MCP authorization 2025-11-25 §Token Handling accepts access tokens only: 401 invalid_token',
  algNone:
    'RFC 8725 §3.1 (JWT best practices): an unsigned "alg: none" token MUST be rejected; MCP authorization 2025-11-25 §Token Handling; RFC 6750 §3.1: 401 invalid_token',
  algConfusion:
    "RFC 8725 §3.1: the algorithm is fixed by the key, never taken from the token; HS256 keyed with the realm's RSA public key MUST be rejected; RFC 6750 §3.1: 401 invalid_token",
  unknownKey:
    "RFC 8725 §3.1 and OAuth 2.1 §5.2: the signature must verify with a key in the issuer's JWKS; a token signed by any other key (even under the realm's kid) gets 401 invalid_token",
  tampered:
    "RFC 7515 §5.2: a JWS whose payload changed no longer verifies; a real token with edited claims (another user's sub, more scopes) MUST be rejected: 401 invalid_token",
  stepUp:
    'MCP authorization 2025-11-25 §Scope Challenge Handling: a token without a scope the operation needs gets 403 with WWW-Authenticate: Bearer error="insufficient_scope", scope="…" naming the scopes needed (RFC 6750 §3.1)',
  origin:
    'MCP transports 2025-11-25 §Security Warning: servers MUST validate the Origin header of every request; when it is present and not allowed they MUST answer 403 Forbidden',
  host: 'MCP transports 2025-11-25 §Security Warning (DNS rebinding): a server must not answer a Host it does not serve; the MCP SDKs reject unknown Host values (hostHeaderValidation) with a 4xx',
  passthrough:
    'MCP authorization 2025-11-25 §Access Token Privilege Restriction and Security Best Practices §Token Passthrough: MCP servers MUST NOT pass the token they received from the client to upstream APIs; get one for the upstream (e.g. RFC 8693 token exchange)',
} as const;

export const FIXES = {
  audience:
    'Verify "aud" against your own resource URL (the "resource" in your metadata), e.g. jose jwtVerify(token, jwks, { audience: resourceUrl })',
  signature:
    'Verify the signature with the realm\'s JWKS and a fixed algorithm list, e.g. jose jwtVerify(token, createRemoteJWKSet(jwksUrl), { algorithms: ["RS256"] }); answer failures with 401 and WWW-Authenticate: Bearer error="invalid_token"',
} as const;
