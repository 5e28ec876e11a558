// The seed flow in a real browser: Debian's Chromium, driven headless by playwright-core,
// against `cargo run --example portal` sending its emails over SMTP into a Maildir.
//
// Environment: PORTAL_URL (http://127.0.0.1:PORT), MAILDIR (aiosmtpd's Maildir), CHROMIUM (the
// browser's path), SCREENSHOTS (a folder for one screenshot per page). Run by
// scripts/browser-test, which starts everything.

import { chromium } from "playwright-core";
import { readdirSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

const base = process.env.PORTAL_URL;
const maildir = process.env.MAILDIR;
const shots = process.env.SCREENSHOTS;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = join(shots, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

/// The invitation link of the last email delivered to `address`, waiting for it to arrive.
async function linkFor(address) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const dir = join(maildir, "new");
    const links = [];
    for (const name of readdirSync(dir).sort()) {
      const raw = readFileSync(join(dir, name), "utf8");
      if (!new RegExp(`^To: .*${address}`, "mi").test(raw)) continue;
      // Undo quoted-printable soft line breaks; a token has no character QP escapes.
      const text = raw.replace(/=\r?\n/g, "");
      const found = text.match(/https?:\/\/[^\s"<>]*\/invitations\/([A-Za-z0-9_-]{43})/);
      if (found) links.push(found[0]);
    }
    if (links.length > 0) return links[links.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no invitation email reached ${address}`);
}

async function signIn(page, email, password) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// 1. The administrator signs in, opens the project's Access tab and invites four rows in one
//    form: an existing user, two new people and a malformed address.
const admin = await (await browser.newContext()).newPage();
await signIn(admin, "alice@acme.example", "alice-password-1");
await screenshot(admin, "projects");
await admin.getByRole("link", { name: "Website" }).click();
await assert.doesNotReject(admin.getByRole("heading", { name: "Invite Users" }).waitFor());
const rows = [
  ["bob@example.org", "Engineers"],
  ["dave@acme.example", "Users"],
  ["erin@acme.example", "Purge and Prefetch only (API)"],
  ["not-an-address", "Users"],
];
for (const [index, [email, role]] of rows.entries()) {
  if (index > 0) await admin.getByRole("button", { name: "add another user" }).click();
  await admin.locator(`#email-${index}`).fill(email);
  await admin.locator(`#role-${index}`).selectOption({ label: role });
}
await screenshot(admin, "invite-form");
await admin.getByRole("button", { name: "Send Invitation" }).click();
const results = admin.locator("section[aria-labelledby=results] tbody tr");
assert.equal(await results.count(), 4);
assert.match(await results.nth(0).innerText(), /bob@example.org\s+Access granted/);
assert.match(await results.nth(1).innerText(), /dave@acme.example\s+Invitation sent/);
assert.match(await results.nth(2).innerText(), /erin@acme.example\s+Invitation sent/);
assert.match(await results.nth(3).innerText(), /not-an-address\s+Not a valid address/);
await screenshot(admin, "invite-results");

// 2. A new invitee opens the link from the delivered email, creates a password, signs in.
const daveLink = await linkFor("dave@acme.example");
const dave = await (await browser.newContext()).newPage();
await dave.goto(daveLink);
const details = await dave.locator("dl").innerText();
assert.match(details, /Website/);
assert.match(details, /Users/);
assert.match(details, /alice@acme.example/);
await screenshot(dave, "link-new-person");
await dave.getByLabel("Password").fill("dave-password-1");
await dave.getByRole("button", { name: "Create password and accept" }).click();
await assert.doesNotReject(dave.getByText("Your password is set").waitFor());
await signIn(dave, "dave@acme.example", "dave-password-1");
await assert.doesNotReject(dave.getByRole("link", { name: "Website" }).waitFor());
await screenshot(dave, "new-person-signed-in");

// 3. The existing user signs in, accepts, and picks between his two accounts.
const bobLink = await linkFor("bob@example.org");
const bob = await (await browser.newContext()).newPage();
await signIn(bob, "bob@example.org", "bob-password-12");
await bob.goto(bobLink);
await screenshot(bob, "link-existing-user");
await bob.getByRole("button", { name: "Accept" }).click();
await assert.doesNotReject(bob.getByRole("heading", { name: "Pick an account" }).waitFor());
await screenshot(bob, "account-picker");
await bob.getByLabel("Acme Cloud").check();
await bob.getByRole("button", { name: "Continue" }).click();
await assert.doesNotReject(bob.getByRole("link", { name: "Website" }).waitFor());

// 4. A non-administrator sees no invite form, and a forged POST is refused.
await dave.getByRole("link", { name: "Website" }).click();
await assert.doesNotReject(dave.getByRole("heading", { name: "Members" }).waitFor());
assert.equal(await dave.getByRole("heading", { name: "Invite Users" }).count(), 0);
await screenshot(dave, "access-tab-as-user");
const projectUrl = dave.url();
const forged = await dave.context().request.post(`${projectUrl}/invite`, {
  form: { csrf: "forged", email: "mallory@acme.example", role: "users", action: "send" },
  maxRedirects: 0,
});
assert.equal(forged.status(), 403);

// 5. A used link says so.
await dave.goto(daveLink);
await assert.doesNotReject(dave.getByText("already used").waitFor());
await screenshot(dave, "used-link");

await browser.close();
console.log("browser test passed");
