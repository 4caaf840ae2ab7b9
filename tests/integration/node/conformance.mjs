// Drives plexusd with ImapFlow, an IMAP client independent of ours with its own
// response parser, through the commands mail clients use. Every step is
// checked; any failure, and any warning or error ImapFlow logs (an unparsable
// response, for one), makes the exit status 1. Settings come from the
// environment (see test_imap_independent_client.py).
import { ImapFlow } from 'imapflow';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
};
const logged = [];
const logger = {
    debug() {}, info() {}, trace() {},
    warn(entry) { logged.push(['warn', entry]); },
    error(entry) { logged.push(['error', entry]); },
    fatal(entry) { logged.push(['fatal', entry]); },
};
const connect = (user, password) => new ImapFlow({
    host: '127.0.0.1', port: Number(env('PLEXUS_IMAPS_PORT')), secure: true,
    servername: env('PLEXUS_HOSTNAME'), tls: { ca: [readFileSync(env('PLEXUS_CA'))], minVersion: 'TLSv1.2' },
    auth: { user, pass: password }, logger, qresync: true, emitLogs: false,
});
const steps = [];
async function step(name, fn) {
    try {
        await fn();
        steps.push(`ok   ${name}`);
    } catch (e) {
        steps.push(`FAIL ${name}: ${e.stack || e}`);
    }
}
const withTimeout = (promise, ms, what) => Promise.race([promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);

const folder = 'Conformité/Été';
const attachment = Buffer.from('%PDF-1.4\n% compte rendu\n'.repeat(40));
const raw = Buffer.from([
    `From: "Laboratoire Biomnis" <labo@${env('PLEXUS_DOMAIN')}>`,
    `To: ${env('PLEXUS_USER')}`,
    "Subject: =?UTF-8?Q?R=C3=A9sultats_d'analyses?=",
    'Date: Mon, 2 Mar 2026 10:00:00 +0100',
    '<independent-client@test>'.replace(/^/, 'Message-ID: '),
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="frontiere"',
    '',
    '--frontiere',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Glyc=C3=A9mie =C3=A0 jeun normale.',
    '--frontiere',
    'Content-Type: application/pdf; name="cr.pdf"',
    'Content-Disposition: attachment; filename="cr.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    ...attachment.toString('base64').match(/.{1,76}/g),
    '--frontiere--',
    '',
].join('\r\n'));

const client = connect(env('PLEXUS_USER'), env('PLEXUS_PASSWORD'));
await client.connect();
let uid, uidValidity;

await step('capabilities', async () => {
    for (const cap of ['IDLE', 'CONDSTORE', 'QRESYNC', 'UIDPLUS', 'MOVE', 'QUOTA', 'NAMESPACE', 'SPECIAL-USE',
                       'ENABLE', 'ID', 'LITERAL+', 'ESEARCH'])
        assert.ok(client.capabilities.has(cap), cap);
});
await step('LIST with special-use folders', async () => {
    const folders = await client.list();
    const uses = Object.fromEntries(folders.filter((f) => f.specialUse).map((f) => [f.specialUse, f.path]));
    for (const use of ['\\Inbox', '\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']) assert.ok(uses[use], use);
    assert.equal(client.namespaces?.personal?.[0]?.delimiter ?? '/', '/');
});
await step('CREATE with UTF-8 names (modified UTF-7 on the wire)', async () => {
    await client.mailboxCreate(folder);
    const paths = (await client.list()).map((f) => f.path);
    assert.ok(paths.includes(folder), paths.join(', '));
    assert.ok(paths.includes('Conformité'), 'the parent');
});
await step('APPEND with flags and a date (APPENDUID)', async () => {
    const result = await client.append(folder, raw, ['\\Seen'], new Date('2026-03-02T09:00:00Z'));
    assert.ok(result.uid > 0 && result.uidValidity > 0n, JSON.stringify(result, (k, v) => String(v)));
    ({ uid, uidValidity } = result);
});
await step('STATUS', async () => {
    const status = await client.status(folder, { messages: true, unseen: true, uidNext: true, uidValidity: true });
    assert.equal(status.messages, 1);
    assert.equal(status.unseen, 0);
    assert.equal(status.uidNext, uid + 1);
    assert.equal(status.uidValidity, uidValidity);
});

const lock = await client.getMailboxLock(folder);
try {
    await step('SELECT', async () => {
        assert.equal(client.mailbox.path, folder);
        assert.equal(client.mailbox.exists, 1);
        assert.ok(client.mailbox.highestModseq > 0n);
    });
    await step('FETCH ENVELOPE, BODYSTRUCTURE, FLAGS, INTERNALDATE, RFC822.SIZE, BODY[], headers', async () => {
        const m = await client.fetchOne(String(uid), {
            uid: true, envelope: true, bodyStructure: true, flags: true, internalDate: true, size: true,
            source: true, headers: ['subject', 'message-id'],
        }, { uid: true });
        assert.equal(m.envelope.subject, "Résultats d'analyses");
        assert.equal(m.envelope.from[0].address, `labo@${env('PLEXUS_DOMAIN')}`);
        assert.equal(m.envelope.from[0].name, 'Laboratoire Biomnis');
        assert.equal(m.envelope.messageId, '<independent-client@test>');
        assert.equal(m.size, raw.length);
        assert.ok(m.source.equals(raw), 'BODY[] is the appended message, byte for byte');
        assert.ok(m.flags.has('\\Seen'));
        assert.equal(m.internalDate.toISOString(), '2026-03-02T09:00:00.000Z');
        assert.equal(m.bodyStructure.type, 'multipart/mixed');
        const [text, pdf] = m.bodyStructure.childNodes;
        assert.equal(text.type, 'text/plain');
        assert.equal(text.parameters.charset, 'utf-8');
        assert.equal(pdf.type, 'application/pdf');
        assert.equal(pdf.disposition, 'attachment');
        assert.equal(pdf.dispositionParameters.filename, 'cr.pdf');
        assert.match(m.headers.toString(), /^Subject: =\?UTF-8\?Q\?R=C3=A9sultats_d'analyses\?=\r\nMessage-ID: <independent-client@test>\r\n/i);
    });
    await step('FETCH BODY[2] (a part, decoded by the client)', async () => {
        const { content } = await client.download(String(uid), '2', { uid: true });
        const chunks = [];
        for await (const chunk of content) chunks.push(chunk);
        assert.ok(Buffer.concat(chunks).equals(attachment));
    });
    await step('SEARCH (header, body, flags, dates)', async () => {
        assert.deepEqual(await client.search({ subject: 'analyses' }, { uid: true }), [uid]);
        assert.deepEqual(await client.search({ body: 'jeun' }, { uid: true }), [uid]);
        assert.deepEqual(await client.search({ seen: true, since: new Date('2026-01-01') }, { uid: true }), [uid]);
        assert.deepEqual(await client.search({ unseen: true }, { uid: true }), []);
    });
    await step('STORE flags and keywords, CONDSTORE CHANGEDSINCE', async () => {
        const before = client.mailbox.highestModseq;
        assert.ok(await client.messageFlagsAdd(String(uid), ['\\Flagged', '$Label1'], { uid: true }));
        const m = await client.fetchOne(String(uid), { flags: true, uid: true }, { uid: true, changedSince: before });
        assert.ok(m.flags.has('\\Flagged') && m.flags.has('$Label1'), [...m.flags].join(' '));
        assert.ok(m.modseq > before);
    });
    await step('COPY and MOVE (COPYUID)', async () => {
        const copied = await client.messageCopy(String(uid), 'INBOX', { uid: true });
        assert.equal(copied.destination, 'INBOX');
        assert.equal(copied.uidMap.size, 1);
        const moved = await client.messageMove(String(uid), 'Archive', { uid: true });
        assert.equal(moved.uidMap.size, 1);
        assert.equal(client.mailbox.exists, 0);
    });
} finally {
    lock.release();
}

await step('GETQUOTAROOT', async () => {
    const quota = await client.getQuota('INBOX');
    assert.ok(quota && quota.storage && quota.storage.usage > 0 && quota.storage.limit > quota.storage.usage,
              JSON.stringify(quota));
});
await step('IDLE: told of a message another client appends', async () => {
    await client.mailboxOpen('INBOX');
    const exists = client.mailbox.exists;
    const told = new Promise((resolve) => client.once('exists', resolve));
    const idling = client.idle();
    const other = connect(env('PLEXUS_USER'), env('PLEXUS_PASSWORD'));
    await other.connect();
    await other.append('INBOX', raw);
    await other.logout();
    const event = await withTimeout(told, 3000, 'EXISTS during IDLE');
    assert.equal(event.count, exists + 1);
    await client.noop();  // ends IDLE
    await idling.catch(() => {});
});
await step('EXPUNGE (UID EXPUNGE) and VANISHED/EXPUNGE', async () => {
    const before = client.mailbox.exists;
    const uids = await client.search({ header: { 'message-id': '<independent-client@test>' } }, { uid: true });
    assert.equal(uids.length, 2);
    assert.ok(await client.messageDelete(uids.join(','), { uid: true }));
    assert.equal(client.mailbox.exists, before - 2);
});
await step('RENAME and DELETE', async () => {
    await client.mailboxRename(folder, 'Conformité/Automne');
    let paths = (await client.list()).map((f) => f.path);
    assert.ok(paths.includes('Conformité/Automne') && !paths.includes(folder));
    await client.mailboxDelete('Conformité/Automne');
    await client.mailboxDelete('Conformité');
    paths = (await client.list()).map((f) => f.path);
    assert.ok(!paths.some((p) => p.startsWith('Conformité')));
});
await client.logout();

for (const line of steps) console.log(line);
for (const [level, entry] of logged) console.log(`${level} logged by ImapFlow: ${JSON.stringify(entry)}`);
process.exit(steps.some((s) => s.startsWith('FAIL')) || logged.length ? 1 : 0);
