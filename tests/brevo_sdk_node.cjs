// Brevo's official Node SDK (@getbrevo/brevo 6.x) drives every balance operation and the program's publish against
// the gateway: node brevo_sdk_node.cjs <base url ending in /v3> <api key> <program id> <demo definition id>.
// Exits non-zero (with the SDK's error or a failed check) on any problem; run by tests/test_brevo_sdk.py.
const assert = require("node:assert/strict");
const { BrevoClient } = require("@getbrevo/brevo");

async function main() {
  const [baseUrl, apiKey, pid, demo] = process.argv.slice(2);
  const client = new BrevoClient({ apiKey, baseUrl });
  const b = client.balance;
  const calls = [];
  const step = async (name, promise) => { const out = await promise; calls.push(name); return out; };

  const created = await step("createBalanceDefinition", b.createBalanceDefinition({
    pid, name: "Node wallet", unit: "POINTS", balanceOptionCreditRounding: "lower",
    balanceAvailabilityDurationValue: 6, balanceAvailabilityDurationUnit: "month",
    balanceAvailabilityDurationModifier: "startOfPeriod" }));
  const bdid = created.id;
  assert.equal(created.name, "Node wallet");
  assert.equal((await step("getBalanceDefinition", b.getBalanceDefinition({ pid, bdid, version: "active" }))).unit,
               "POINTS");
  const list = await step("getBalanceDefinitionList", b.getBalanceDefinitionList({ pid, sortField: "name", sort: "asc" }));
  assert.deepEqual(list.items.map((d) => d.name), ["Node wallet", "Reward Points"]);
  const updated = await step("updateBalanceDefinition", b.updateBalanceDefinition({
    pid, bdid, name: "Node wallet+", unit: "POINTS", balanceOptionCreditRounding: "lower" }));
  assert.equal(updated.name, "Node wallet+");
  const spare = await b.createBalanceDefinition({ pid, name: "Spare", unit: "EUR" });
  await step("deleteBalanceDefinition", b.deleteBalanceDefinition({ pid, bdid: spare.id }));

  const limit = await step("createBalanceLimit", b.createBalanceLimit({
    pid, bdid, constraintType: "amount", durationUnit: "day", durationValue: 1, transactionType: "debit", value: 10 }));
  assert.equal((await step("getBalanceLimit", b.getBalanceLimit({ pid, bdid, blid: limit.id }))).value, 10);
  const changed = await step("updateBalanceLimit", b.updateBalanceLimit({
    pid, bdid, blid: limit.id, constraintType: "amount", durationUnit: "week", durationValue: 1,
    transactionType: "debit", value: 15, slidingSchedule: true }));
  assert.equal(changed.slidingSchedule, true);
  const doomed = await b.createBalanceLimit({
    pid, bdid, constraintType: "transaction", durationUnit: "year", durationValue: 1, transactionType: "credit", value: 1 });
  await step("deleteBalanceLimit", b.deleteBalanceLimit({ pid, bdid, blid: doomed.id }));
  await step("publishLoyaltyProgram", client.program.publishLoyaltyProgram({ pid }));

  const opened = await step("createSubscriptionBalances", b.createSubscriptionBalances({
    pid, cid: "18", balanceDefinitionId: bdid }));
  assert.equal(opened.amount, 0);
  const mine = await step("getSubscriptionBalances", b.getSubscriptionBalances({ pid, cid: "17" }));
  assert.deepEqual(mine.balance.map((x) => x.value).sort((a, z) => a - z), [0, 1400]);

  const credit = await step("beginTransaction", b.beginTransaction({
    pid, amount: 50.7, balanceDefinitionId: bdid, contactId: 17, meta: { source: "node" } }));
  assert.equal(credit.status, "draft");
  const done = await step("completeTransaction", b.completeTransaction({ pid, tid: credit.id }));
  assert.deepEqual([done.status, done.amount, done.balance], ["completed", 50, 50]);
  const dropped = await b.beginTransaction({ pid, amount: 5, balanceDefinitionId: bdid, contactId: 17 });
  assert.equal((await step("cancelTransaction", b.cancelTransaction({ pid, tid: dropped.id }))).status, "cancelled");
  const debit = await b.beginTransaction({ pid, amount: -12, balanceDefinitionId: bdid, contactId: 17, autoComplete: true });
  assert.deepEqual([debit.status, debit.amount, debit.balance], ["completed", -12, 38]);
  const beyond = await b.beginTransaction({ pid, amount: -4, balanceDefinitionId: bdid, contactId: 17, autoComplete: true });
  assert.deepEqual([beyond.status, beyond.rejectReason], ["rejected", "debit limit of 15 points per 1 week reached"]);
  const order = await step("createBalanceOrder", b.createBalanceOrder({
    pid, amount: 20, balanceDefinitionId: demo, contactId: 17, dueAt: "2026-03-15T00:00:00Z", source: "user" }));
  assert.equal((await b.completeTransaction({ pid, tid: order.transactionid })).balance, 1420);

  const active = await step("getActiveBalancesApi", b.getActiveBalancesApi({ pid, contactId: 17, balanceDefinitionId: bdid }));
  assert.deepEqual([active.count, active.activeBalances.map((x) => x.amount)], [1, [38]]);
  const history = await step("getTransactionHistoryApi", b.getTransactionHistoryApi({
    pid, contactId: 17, balanceDefinitionId: bdid, status: "completed" }));
  assert.deepEqual(history.transactionHistory.map((x) => x.amount), [-12, 50]);
  const ranking = await step("getContactBalances", b.getContactBalances({ pid, balanceDefinitionId: bdid, sortField: "value" }));
  assert.deepEqual(ranking.balances.map((x) => [x.contactId, x.value]), [[17, 38], [18, 0]]);
  console.log(JSON.stringify({ calls }));
}

main().catch((err) => { console.error(err && (err.stack || err)); process.exit(1); });
