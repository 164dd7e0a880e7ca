// @ts-check
// Unit tests of the membership rule (action_templates/membership.js): node --test tests/action/
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const {
  CLAUSES,
  createRule,
  decide,
  eligible,
  emailDomain,
  identityClaim,
  userRefusal,
} = require("../../action_templates/membership");

const DATABASE = { name: "Username-Password-Authentication", strategy: "auth0" };
const GOOGLE = { name: "google-oauth2", strategy: "google-oauth2" };

/**
 * @param {Partial<import("../../action_templates/membership").Organization>} rule
 * @returns {import("../../action_templates/membership").Organization}
 */
function organization(rule) {
  return {
    id: "org_acme",
    name: "acme",
    connections: [DATABASE.name, GOOGLE.name],
    anyUser: false,
    domains: [],
    subdomainsOf: [],
    trusted: [],
    applications: null,
    roles: [],
    ...rule,
  };
}

/**
 * @param {Record<string, unknown>} fields
 * @param {string} [connection]
 */
function user(fields, connection = DATABASE.name) {
  return { user_id: "auth0|1", identities: [{ connection, provider: "auth0" }], ...fields };
}

describe("emailDomain", () => {
  const accepted = {
    "a@acme.com": "acme.com",
    "A@ACME.Com": "acme.com",
    "anna@bücher.de": "xn--bcher-kva.de",
    "chef@xn--strae-oqa.de": "xn--strae-oqa.de",
    "m@ａｃｍｅ.com": "acme.com",
    "x@a-b.example.co.uk": "a-b.example.co.uk",
  };
  for (const [address, domain] of Object.entries(accepted)) {
    it(`reads ${JSON.stringify(address)} as ${domain}`, () => assert.equal(emailDomain(address), domain));
  }
  const refused = [
    "acme.com",
    "@acme.com",
    "a@",
    "a@b@acme.com",
    "a@acme.com/evil.io",
    "a@acme.com\\evil.io",
    "a@acme.com:25",
    "a@acme.com?x",
    "a@acme.com#f",
    "a@acme%2ecom",
    "a@[acme.com]",
    "a@ac\tme.com",
    "a @acme.com",
    "a@acme.com\n",
    "a@acme.com.",
    "a@acme..com",
    "a@-acme.com",
    "a@acme",
    "a@1.2.3.4",
    "a@ac\u200dme.com",
    "a@straße.de",
    "a@STRA\u1E9EE.de",
    "m@ς.gr",
    `${"a".repeat(250)}@acme.com`,
    `a@${"x".repeat(64)}.com`,
    `a@${"abcdefghi.".repeat(26)}com`,
  ];
  for (const address of refused) {
    it(`refuses ${JSON.stringify(address)}`, () => assert.equal(emailDomain(address), null));
  }
  it("refuses what is not text", () => {
    for (const value of [undefined, null, 42, ["a@acme.com"], { email: "a@acme.com" }]) {
      assert.equal(emailDomain(value), null);
    }
  });
});

describe("identityClaim", () => {
  it("reads the primary identity's claim from the user", () => {
    assert.deepEqual(identityClaim(user({ email: "a@acme.com", email_verified: true }), DATABASE.name), {
      email: "a@acme.com",
      verified: true,
    });
  });
  it("reads a linked identity's claim from its profileData, not the user's", () => {
    const linked = {
      email: "a@acme.com",
      email_verified: true,
      identities: [
        { connection: GOOGLE.name, provider: "google-oauth2" },
        { connection: DATABASE.name, provider: "auth0", profileData: { email: "m@evil.io", email_verified: false } },
      ],
    };
    assert.deepEqual(identityClaim(linked, DATABASE.name), { email: "m@evil.io", verified: false });
  });
  it("takes the primary identity from the user's id, and none when two identities bear it", () => {
    const legacy = { connection: "Legacy-DB", provider: "auth0", user_id: "123", profileData: { email: "m@evil.io", email_verified: true } };
    const primary = { connection: DATABASE.name, provider: "auth0", user_id: "123" };
    const both = { user_id: "auth0|123", email: "a@acme.com", email_verified: true, identities: [legacy, primary] };
    // Each identity bearing the id reads its own profileData alone: the legacy one its own
    // address, the real primary (which has none) nothing.
    assert.deepEqual(identityClaim(both, "Legacy-DB"), { email: "m@evil.io", verified: true });
    assert.equal(identityClaim(both, DATABASE.name), null);
    const renamed = { ...both, identities: [{ ...legacy, user_id: "456" }, primary] };
    assert.deepEqual(identityClaim(renamed, "Legacy-DB"), { email: "m@evil.io", verified: true });
    assert.deepEqual(identityClaim(renamed, DATABASE.name), { email: "a@acme.com", verified: true });
  });
  it("has no claim without an identity on the connection, or with two", () => {
    assert.equal(identityClaim(user({ email: "a@acme.com" }), GOOGLE.name), null);
    const two = { identities: [{ connection: DATABASE.name }, { connection: DATABASE.name, profileData: {} }] };
    assert.equal(identityClaim(two, DATABASE.name), null);
    assert.equal(identityClaim({ identities: "not a list" }, DATABASE.name), null);
  });
});

describe("eligible", () => {
  const acme = organization({ domains: ["acme.com"] });
  it("takes a verified address in the domain through a self-verifying connection", () => {
    assert.equal(eligible(acme, user({ email: "a@acme.com", email_verified: true }), DATABASE), true);
  });
  it("needs email_verified to be true itself", () => {
    for (const verified of [false, "true", 1, undefined]) {
      assert.equal(eligible(acme, user({ email: "a@acme.com", email_verified: verified }), DATABASE), false);
    }
  });
  it("trusts a social connection's email_verified only when listed", () => {
    const google = user({ email: "a@acme.com", email_verified: true }, GOOGLE.name);
    assert.equal(eligible(acme, google, GOOGLE), false);
    assert.equal(eligible(organization({ domains: ["acme.com"], trusted: [GOOGLE.name] }), google, GOOGLE), true);
  });
  it("holds a trusted connection listed in trustedConnectionDomains to the domains listed for it", () => {
    const limited = organization({
      domains: ["acme.com", "partner.com"],
      subdomainsOf: ["acme.com"],
      trusted: [GOOGLE.name],
      trustedConnectionDomains: { [GOOGLE.name]: ["partner.com", "*.acme.com"] },
    });
    const through = (/** @type {string} */ email) => user({ email, email_verified: true }, GOOGLE.name);
    assert.equal(eligible(limited, through("p@partner.com"), GOOGLE), true);
    assert.equal(eligible(limited, through("b@eu.acme.com"), GOOGLE), true);
    assert.deepEqual(decide(limited, through("m@acme.com"), GOOGLE), { refusal: "email-not-vouched-for" });
    // Auth0's own database connection is not the limited one: it vouches for every domain.
    assert.equal(eligible(limited, user({ email: "a@acme.com", email_verified: true }), DATABASE), true);
    // A connection's name is looked up as the limits' own key only.
    const named = organization({
      domains: ["acme.com"],
      connections: ["constructor"],
      trustedConnectionDomains: { [GOOGLE.name]: ["acme.com"] },
    });
    const constructor = { name: "constructor", strategy: "auth0" };
    assert.equal(eligible(named, user({ email: "a@acme.com", email_verified: true }, "constructor"), constructor), true);
  });
  it("never takes a blocked user, even of an open organization", () => {
    const open = organization({ anyUser: true });
    assert.equal(eligible(open, user({}), DATABASE), true);
    assert.equal(eligible(open, user({ blocked: true }), DATABASE), false);
  });
  it("never takes a connection the organization does not list", () => {
    const open = organization({ anyUser: true, connections: [DATABASE.name] });
    assert.equal(eligible(open, user({}, "github"), { name: "github", strategy: "github" }), false);
  });
});

describe("createRule", () => {
  const organizations = [
    organization({ id: "org_a", domains: ["acme.com"] }),
    organization({ id: "org_b", subdomainsOf: ["acme.com"], connections: [DATABASE.name] }),
    organization({ id: "org_c", anyUser: true, connections: [GOOGLE.name] }),
    organization({ id: "org_d", domains: ["globex.com", "acme.com"], applications: ["portal"] }),
  ];
  const rule = createRule(organizations);
  const addresses = ["a@acme.com", "a@eu.acme.com", "a@globex.com", "a@evil.io", "bad", undefined];

  it("finds through its index exactly what the rule admits", () => {
    for (const connection of [DATABASE, GOOGLE]) {
      for (const email of addresses) {
        for (const client of ["portal", "other", undefined]) {
          const someone = user({ email, email_verified: true }, connection.name);
          const expected = organizations.filter(
            (o) => eligible(o, someone, connection) && (!o.applications || o.applications.includes(String(client))),
          );
          assert.deepEqual(
            rule.forLogin(someone, connection, client).map(({ organization }) => organization.id).sort(),
            expected.map((o) => o.id).sort(),
            `${connection.name} ${email} ${client}`,
          );
        }
      }
    }
  });

  it("for users, looks through every identity and ignores applications", () => {
    const someone = {
      email: "a@acme.com",
      email_verified: true,
      identities: [
        { connection: DATABASE.name, provider: "auth0" },
        { connection: GOOGLE.name, provider: "google-oauth2", profileData: {} },
      ],
    };
    assert.deepEqual(
      rule.forUser(someone).map(({ organization }) => organization.id),
      ["org_a", "org_c", "org_d"],
    );
  });
});

describe("the index", () => {
  // A small deterministic generator, so a failure names a reproducible case.
  let seed = 7;
  const next = (/** @type {number} */ n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  /** @template T @param {T[]} items @returns {T} */
  const pick = (items) => items[next(items.length)];
  const domains = ["acme.com", "eu.acme.com", "globex.com", "a.b.globex.com", "evil.io"];
  const connections = [DATABASE, GOOGLE, { name: "okta", strategy: "okta" }];

  it("reaches every organization any clause admits a login to, on generated rules", () => {
    for (let round = 0; round < 200; round += 1) {
      const organizations = Array.from({ length: 6 }, (_, n) => {
        const anyUser = next(4) === 0;
        return organization({
          id: `org_${n}`,
          connections: connections.filter(() => next(2) === 0).map((c) => c.name),
          anyUser,
          domains: anyUser ? [] : domains.filter(() => next(3) === 0),
          subdomainsOf: anyUser ? [] : domains.filter(() => next(4) === 0),
          trusted: connections.filter(() => next(3) === 0).map((c) => c.name),
        });
      });
      const rule = createRule(organizations);
      const connection = pick(connections);
      const someone = user(
        { email: `a@${pick(domains)}`, email_verified: next(4) !== 0, blocked: next(10) === 0 },
        connection.name,
      );
      const expected = organizations.filter((o) => eligible(o, someone, connection)).map((o) => o.id);
      const found = rule.forLogin(someone, connection, undefined).map(({ organization }) => organization.id);
      assert.deepEqual(found.sort(), expected.sort());
    }
  });

  it("files every organization a clause applies to under at least one key", () => {
    const rules = [organization({ anyUser: true }), organization({ domains: ["acme.com"] })];
    for (const rule of rules) {
      const clauses = CLAUSES.filter((clause) => clause.appliesTo(rule));
      assert.ok(clauses.length > 0);
      for (const clause of clauses) {
        assert.ok(clause.keysOf(rule).length > 0, clause.name);
      }
    }
  });
});

describe("decide", () => {
  it("names the clause that admits", () => {
    const acme = organization({ domains: ["acme.com"], subdomainsOf: ["acme.com"] });
    const verified = { email_verified: true };
    assert.deepEqual(decide(acme, user({ ...verified, email: "a@acme.com" }), DATABASE), {
      admittedBy: "emailDomains: acme.com",
    });
    assert.deepEqual(decide(acme, user({ ...verified, email: "a@eu.acme.com" }), DATABASE), {
      admittedBy: "emailDomains: *.acme.com",
    });
    assert.deepEqual(decide(organization({ anyUser: true }), user({}), DATABASE), {
      admittedBy: `allowAnyUserOfConnection: ${DATABASE.name}`,
    });
    assert.deepEqual(decide(acme, user({ email: "a@acme.com" }), DATABASE), { refusal: "email-not-verified" });
  });
});

describe("userRefusal", () => {
  const acme = organization({ domains: ["acme.com"], connections: [DATABASE.name] });
  /** @param {Record<string, unknown>} fields @param {string} [connection] */
  const member = (fields, connection) => user({ email: "a@acme.com", email_verified: true, ...fields }, connection);
  const reasons = {
    "a member who still matches": [member({}), null],
    "an address that left the domain": [member({ email: "a@elsewhere.io" }), "email-domain-not-in-rule"],
    "an address no longer verified": [member({ email_verified: false }), "email-not-verified"],
    "a blocked user": [member({ blocked: true }), "blocked"],
    "a connection the rule no longer lists": [member({}, GOOGLE.name), "connection-not-in-rule"],
  };
  for (const [what, [someone, reason]] of Object.entries(reasons)) {
    it(`says why of ${what}`, () => assert.equal(userRefusal(acme, /** @type {any} */ (someone)), reason));
  }
  it("takes a user eligible through any identity", () => {
    const linked = {
      email: "a@elsewhere.io",
      email_verified: true,
      identities: [
        { connection: GOOGLE.name, provider: "google-oauth2" },
        { connection: DATABASE.name, provider: "auth0", profileData: { email: "a@acme.com", email_verified: true } },
      ],
    };
    assert.equal(userRefusal(acme, linked), null);
  });
});
