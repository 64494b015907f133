// The OAuth client provider the SDK-driven test clients share: what a CLI client keeps
// between runs, held in memory. Each script says how the "browser" step goes by
// subclassing and implementing `redirectToAuthorization(url)`.

export class MemoryProvider {
  client = undefined;
  storedTokens = undefined;
  verifier = undefined;

  constructor({ clientName, redirectUrl }) {
    this.clientName = clientName;
    this.redirect = redirectUrl;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.storedTokens;
  }
  saveTokens(tokens) {
    this.storedTokens = tokens;
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}
