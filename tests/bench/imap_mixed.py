#!/usr/bin/env python3
"""IMAP benchmark: Plexus and Debian's Dovecot side by side, same data, same mixed workload.

For each server, one after the other: seed 100 mailboxes through IMAP APPEND (untimed), then
run 20 client processes doing whole IMAP sessions (LOGIN, SELECT, 5 rounds of header fetch /
body fetch / search / flag store, APPEND, EXPUNGE, LOGOUT) on random mailboxes for a fixed
time after a warm-up. Reports commands/s and p50/p99 latency, overall and per command. Then
measures the wake-up latency of an IDLE session on a delivery, and the server's resident
memory per idle session with 2,000 IDLE sessions open. IMAPS (implicit TLS, TLS 1.2+) and
LOGIN for both servers. Traffic stays on 127.0.0.1. Run as root; see README.md.
"""
import argparse
import asyncio
import base64
import datetime
import email.header
import email.utils
import grp
import imaplib
import json
import multiprocessing
import os
import pwd
import quopri
import random
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plexus_harness import PLEXUSCTL, PLEXUSD, Plexus, free_port_offset  # noqa: E402
from smtp_submission import MemorySampler, cpu_busy_percent, cpu_jiffies, proc_kib, process_tree  # noqa: E402

DOMAIN = "bench.mssante.test"
PASSWORD = "bench-password"
HOST = "127.0.0.1"
KINDS = ("login", "select", "fetch_headers", "fetch_body", "search", "search_body", "store",
         "append", "expunge", "logout")
HEADER_FIELDS = "(FROM TO CC SUBJECT DATE MESSAGE-ID CONTENT-TYPE)"
MAX_CLIENT_ERRORS = 20  # a client gives up after this many failed sessions


def user(i):
    return f"u{i:03d}@{DOMAIN}"


# --- data ------------------------------------------------------------------------------

SENDERS = [
    ("Dr Claire Martin", "claire.martin@ch-lyon.mssante.fr"),
    ("Dr Jean-Pierre Lefèvre", "jp.lefevre@chu-bordeaux.mssante.fr"),
    ("Laboratoire Biomnis", "resultats@labo-biomnis.mssante.fr"),
    ("Dr Amélie Dubois", "amelie.dubois@medecin.mssante.fr"),
    ("Service de néphrologie", "nephro@chu-nantes.mssante.fr"),
    ("Dr Karim Benali", "karim.benali@ch-roubaix.mssante.fr"),
    ("Centre d'imagerie Pasteur", "imagerie@cim-pasteur.mssante.fr"),
    ("Pharmacie du Centre", "officine.centre@pharmacien.mssante.fr"),
    ("Dr Sophie Garnier", "sophie.garnier@infirmier.mssante.fr"),
    ("Secrétariat cardiologie", "cardio@ch-annecy.mssante.fr"),
    ("Dr Hugo Moreau", "hugo.moreau@chu-lille.mssante.fr"),
    ("EHPAD Les Tilleuls", "soins@ehpad-tilleuls.mssante.fr"),
]
# ASCII surnames, used as SEARCH FROM keys.
FROM_KEYS = ["martin", "lefevre", "biomnis", "dubois", "nephro", "benali", "imagerie", "garnier",
             "cardio", "moreau", "tilleuls"]
SUBJECTS = [
    "Compte rendu d'hospitalisation", "Résultats d'analyses biologiques", "Ordonnance de sortie",
    "Demande d'avis en cardiologie", "Courrier de liaison", "Convocation à une consultation pré-anesthésique",
    "Lettre de sortie du service de néphrologie", "Résultat d'IRM cérébrale", "Compte rendu opératoire",
    "Bilan de kinésithérapie", "Demande de rendez-vous en dermatologie", "Suivi post-opératoire",
    "Résultats du scanner thoracique", "Transmission infirmière", "Compte rendu de consultation",
]
# Words of the subjects above (ASCII), used as SEARCH SUBJECT keys.
SUBJECT_KEYS = ["compte", "resultats", "ordonnance", "avis", "courrier", "convocation", "sortie",
                "bilan", "rendez-vous", "suivi", "scanner", "transmission", "consultation"]
PATIENTS = ["M. Dupont Henri", "Mme Lefèbvre Hélène", "M. Nguyen Thierry", "Mme Diallo Aïssatou",
            "M. Garcia José", "Mme Rousseau Françoise", "M. Petit Gérard", "Mme Mercier Zoé",
            "M. Bernard Loïc", "Mme Fontaine Céline"]
SENTENCES = [
    "Patient vu en consultation ce jour, examen clinique sans particularité.",
    "Tension artérielle à 13/8, fréquence cardiaque régulière à 72 par minute.",
    "Le scanner thoracique ne montre pas d'anomalie parenchymateuse évolutive.",
    "Nous proposons de poursuivre le traitement antibiotique pendant sept jours.",
    "Antécédents : hypertension artérielle traitée, diabète de type 2 équilibré.",
    "La créatininémie est stable à 95 µmol/L, la kaliémie à 4,2 mmol/L.",
    "Un relais par anticoagulant oral a été débuté, contrôle de l'INR à prévoir.",
    "Je vous remercie de bien vouloir revoir ce patient en consultation dans trois mois.",
    "L'échographie abdominale retrouve une vésicule lithiasique sans signe de cholécystite.",
    "Séances de kinésithérapie à poursuivre, deux fois par semaine, rééducation de l'épaule.",
    "Pas d'allergie médicamenteuse connue. Vaccinations à jour.",
    "Retour à domicile prévu vendredi avec passage infirmier quotidien pour les pansements.",
    "Bilan biologique : hémoglobine 12,8 g/dL, plaquettes 245 G/L, CRP inférieure à 5 mg/L.",
    "Confraternellement, et restant à votre disposition pour tout renseignement complémentaire.",
]
# ASCII words that some bodies contain, used as SEARCH BODY keys.
BODY_KEYS = ["scanner", "antibiotique", "hypertension", "anticoagulant", "pansements", "consultation"]
BASE_DATE = datetime.datetime(2026, 2, 1, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
SINCE_KEYS = ["01-Jan-2026", "15-Dec-2025", "20-Jan-2026", "01-Nov-2025"]


def qp(text):
    return quopri.encodestring(text.encode()).decode().replace("\n", "\r\n")


def wrap76(data):
    b = base64.b64encode(data).decode()
    return "\r\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def make_message(key, rcpt):
    """A realistic 4-10 KB MSSanté message, deterministic in `key`: returns (bytes, date)."""
    rnd = random.Random(key)
    name, sender = rnd.choice(SENDERS)
    subject = f"{rnd.choice(SUBJECTS)} – {rnd.choice(PATIENTS)}"
    date = BASE_DATE - datetime.timedelta(days=rnd.randrange(120), minutes=rnd.randrange(1440))
    target = rnd.randint(4400, 10000)
    kind = rnd.random()
    boundary = f"=_plexus_bench_{rnd.getrandbits(48):012x}"
    head = (f"From: {email.utils.formataddr((name, sender), charset='utf-8')}\r\n"
            f"To: <{rcpt}>\r\n"
            f"Subject: {email.header.Header(subject, 'utf-8').encode(linesep=chr(13) + chr(10))}\r\n"
            f"Date: {email.utils.format_datetime(date)}\r\n"
            f"Message-ID: <{key}.{rnd.getrandbits(32):08x}@{sender.split('@')[1]}>\r\n"
            "MIME-Version: 1.0\r\n"
            "X-Mailer: plexus-bench\r\n")

    def text(size):
        """French paragraphs whose quoted-printable form is about `size` bytes."""
        lines, encoded = [], 120
        while True:
            line = " ".join(rnd.choice(SENTENCES) for _ in range(rnd.randint(1, 3)))
            cost = len(qp(line)) + 4
            if lines and encoded + cost > size:
                break
            lines.append(line)
            encoded += cost
        return "Bonjour cher confrère,\n\n" + "\n\n".join(lines) + "\n\nDr " + name + "\n"

    plain_headers = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    if kind < 0.6:
        msg = head + plain_headers + "\r\n" + qp(text(target - len(head) - 100))
    elif kind < 0.85:
        attachment = b"%PDF-1.4\n" + rnd.randbytes(rnd.randint(1200, 2500))
        body = text(max(800, target - len(head) - len(attachment) * 4 // 3 - 400))
        msg = (head + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
               "This is a multi-part message in MIME format.\r\n"
               f"--{boundary}\r\n" + plain_headers + "\r\n" + qp(body) + "\r\n"
               f"--{boundary}\r\n"
               'Content-Type: application/pdf; name="resultats.pdf"\r\n'
               "Content-Transfer-Encoding: base64\r\n"
               'Content-Disposition: attachment; filename="resultats.pdf"\r\n\r\n'
               + wrap76(attachment) + f"\r\n--{boundary}--\r\n")
    else:
        body = text(max(800, (target - len(head)) // 2 - 200))
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>\n"
        msg = (head + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
               f"--{boundary}\r\n" + plain_headers + "\r\n" + qp(body) + "\r\n"
               f"--{boundary}\r\n"
               "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               + qp(html) + f"\r\n--{boundary}--\r\n")
    return msg.encode(), date


# --- IMAP client helpers ------------------------------------------------------------------

def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


_contexts = {}


def connect(target, timeout=30):
    """An IMAPS connection; one TLS context per process and CA (loading the CA costs client CPU)."""
    ctx = _contexts.get(target["ca"])
    if ctx is None:
        ctx = _contexts[target["ca"]] = tls_context(target["ca"])
    return imaplib.IMAP4_SSL(HOST, target["port"], ssl_context=ctx, timeout=timeout)


class CommandFailed(Exception):
    pass


def ok(kind, typ, data):
    if typ != "OK":
        raise CommandFailed(f"{kind}: {typ} {data!r:.200}")
    return data


def uid_set(uids):
    """A compact UID set ("3:22" or "3:5,9") for a sorted list."""
    parts, start, prev = [], uids[0], uids[0]
    for u in uids[1:] + [None]:
        if u is not None and u == prev + 1:
            prev = u
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        if u is not None:
            start = prev = u
    return ",".join(parts)


def fetched_items(data):
    return [x for x in data if isinstance(x, tuple)]


# --- seeding ---------------------------------------------------------------------------

def seed_mailbox(job):
    """Fills one empty INBOX with `count` messages by APPEND; returns (index, uids, sizes)."""
    target, index, count = job
    address = user(index)
    m = connect(target, timeout=120)
    try:
        ok("login", *m.login(address, target["password"]))
        exists = int(ok("select", *m.select("INBOX"))[0])
        if exists:
            raise RuntimeError(f"{address}: INBOX not empty before seeding ({exists} messages)")
        sizes = []
        for n in range(count):
            data, date = make_message(f"seed.u{index:03d}.{n}", address)
            ok("append", *m.append("INBOX", None, imaplib.Time2Internaldate(date), data))
            sizes.append(len(data))
        ok("select", *m.select("INBOX"))
        uids = sorted(int(x) for x in ok("search", *m.uid("SEARCH", "ALL"))[0].split())
        if len(uids) != count:
            raise RuntimeError(f"{address}: {len(uids)} messages after {count} APPENDs")
        m.logout()
    finally:
        try:
            m.shutdown()
        except OSError:
            pass
    return index, uids, sizes


def seed(target, args):
    """APPENDs the same messages into every mailbox; the timed phase then knows every UID and size."""
    jobs = [(target, i, args.messages) for i in range(args.mailboxes)]
    t0 = time.monotonic()
    with multiprocessing.Pool(args.seed_clients) as pool:
        done = pool.map_async(seed_mailbox, jobs, chunksize=1).get(timeout=600 + args.mailboxes * args.messages * 0.2)
    elapsed = time.monotonic() - t0
    mailboxes = {i: (uids, sizes) for i, uids, sizes in done}
    total = args.mailboxes * args.messages
    return mailboxes, {"seeded_messages": total, "seed_seconds": round(elapsed, 1),
                       "seed_appends_per_s": round(total / elapsed, 1)}


# --- mixed workload --------------------------------------------------------------------------

class WindowClosed(Exception):
    pass


class Recorder:
    """Times commands; keeps the latencies of those that complete inside the window."""

    def __init__(self, window_start, window_end):
        self.start, self.end = window_start, window_end
        self.latencies = {k: [] for k in KINDS}
        self.connect = []
        self.commands = 0
        self.notes = set()

    def run(self, kind, fn, *a):
        t0 = time.monotonic()
        typ, data = fn(*a)
        t1 = time.monotonic()
        if kind == "logout":
            if typ not in ("BYE", "OK"):
                raise CommandFailed(f"logout: {typ} {data!r:.200}")
        else:
            ok(kind, typ, data)
        self.commands += 1
        if self.start <= t1 < self.end:
            self.latencies[kind].append(t1 - t0)
        if t1 >= self.end:
            raise WindowClosed
        return data


def session(target, mailboxes, rnd, rec, rounds, worker, serial):
    """One IMAP session on a random mailbox."""
    index = rnd.randrange(len(mailboxes))
    uids, sizes = mailboxes[index]
    address = user(index)
    t0 = time.monotonic()
    m = connect(target)
    if rec.start <= time.monotonic() < rec.end:
        rec.connect.append(time.monotonic() - t0)
    try:
        rec.run("login", m.login, address, target["password"])
        rec.run("select", m.select, "INBOX")
        for r in range(rounds):
            first = rnd.randrange(max(1, len(uids) - 19))
            batch = uids[first:first + 20]
            data = rec.run("fetch_headers", m.uid, "FETCH", uid_set(batch),
                           f"(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS {HEADER_FIELDS}])")
            if len(fetched_items(data)) != len(batch):
                raise CommandFailed(f"fetch_headers: {len(fetched_items(data))} of {len(batch)} messages")
            i = rnd.randrange(len(uids))
            data = rec.run("fetch_body", m.uid, "FETCH", str(uids[i]), "(UID RFC822.SIZE BODY.PEEK[])")
            items = fetched_items(data)
            if len(items) != 1 or len(items[0][1]) != sizes[i]:
                got = len(items[0][1]) if items else None
                raise CommandFailed(f"fetch_body: uid {uids[i]} of {address}: {got} bytes, expected {sizes[i]}")
            search = (r + serial) % 5
            if search == 4:
                rec.run("search_body", m.uid, "SEARCH", "BODY", rnd.choice(BODY_KEYS))
            else:
                criteria = [("SUBJECT", rnd.choice(SUBJECT_KEYS)), ("FROM", rnd.choice(FROM_KEYS)),
                            ("UNSEEN",), ("SINCE", rnd.choice(SINCE_KEYS))][search]
                rec.run("search", m.uid, "SEARCH", *criteria)
            flag = rnd.choice(["+FLAGS (\\Seen)", "-FLAGS (\\Seen)", "+FLAGS (\\Flagged)", "-FLAGS (\\Flagged)",
                               "+FLAGS (\\Answered)"]).split(" ", 1)
            rec.run("store", m.uid, "STORE", str(rnd.choice(uids)), *flag)
        message, date = make_message(f"load.{worker}.{serial}.{os.getpid()}", address)
        data = rec.run("append", m.append, "INBOX", None, imaplib.Time2Internaldate(date), message)
        code = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
        if code:
            new_uid = code.group(1).decode()
        else:  # no UIDPLUS: find the message by its Message-ID
            rec.notes.add("no APPENDUID: the appended message was found with UID SEARCH HEADER Message-ID")
            mid = re.search(rb"^Message-ID: (<[^>]+>)", message, re.M).group(1).decode()
            found = rec.run("search", m.uid, "SEARCH", "HEADER", "Message-ID", f'"{mid}"')[0].split()
            if len(found) != 1:
                raise CommandFailed(f"append: {len(found)} messages with Message-ID {mid}")
            new_uid = found[0].decode()
        rec.run("store", m.uid, "STORE", new_uid, "+FLAGS.SILENT", "(\\Deleted)")
        rec.run("expunge", m.expunge)
        rec.run("logout", m.logout)
    except WindowClosed:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
        raise
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def client(target, mailboxes, worker, timing, barrier, results):
    """One client process: sessions back to back until the window closes."""
    rnd = random.Random(worker)  # the same sequence of mailboxes and commands for every server
    sessions, errors, rec = 0, [], None
    cpu0 = time.process_time()
    try:
        barrier.wait(timeout=120)
        window_start = time.monotonic() + timing["warmup"]
        rec = Recorder(window_start, window_start + timing["seconds"])
        serial = 0
        while time.monotonic() < rec.end and len(errors) < MAX_CLIENT_ERRORS:
            serial += 1
            try:
                session(target, mailboxes, rnd, rec, timing["rounds"], worker, serial)
                if time.monotonic() >= rec.start:
                    sessions += 1
            except WindowClosed:
                break
            except Exception as e:  # noqa: BLE001 -- reported; the client goes on with a new session
                errors.append(f"client {worker} session {serial}: {type(e).__name__}: {e}")
    except Exception as e:  # noqa: BLE001
        errors.append(f"client {worker}: {type(e).__name__}: {e}")
        barrier.abort()
    results.put({"sessions": sessions, "errors": errors,
                 "latencies": rec.latencies if rec else {k: [] for k in KINDS},
                 "connect": rec.connect if rec else [], "notes": sorted(rec.notes) if rec else [],
                 "cpu_s": time.process_time() - cpu0})


def percentile_ms(values, q):
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 2)


def run_load(target, mailboxes, args, root_pid):
    timing = {"warmup": args.warmup, "seconds": args.seconds, "rounds": args.rounds}
    barrier = multiprocessing.Barrier(args.clients)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(target, mailboxes, i, timing, barrier, results))
             for i in range(args.clients)]
    background = cpu_busy_percent(sample_for=1.0)
    busy_before = cpu_jiffies()
    sampler = MemorySampler(root_pid)
    sampler.start()
    reports = []
    try:
        for p in procs:
            p.start()
        limit = time.monotonic() + 120 + args.warmup + args.seconds + 120
        for _ in procs:
            reports.append(results.get(timeout=max(1, limit - time.monotonic())))
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        sampler.stop()
    busy = cpu_busy_percent(busy_before)
    per_kind = {k: sorted(x for r in reports for x in r["latencies"][k]) for k in KINDS}
    everything = sorted(x for v in per_kind.values() for x in v)
    connects = sorted(x for r in reports for x in r["connect"])
    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds_per_session": args.rounds,
        "sessions": sum(r["sessions"] for r in reports),
        "commands": len(everything),
        "commands_per_s": round(len(everything) / args.seconds, 1),
        "p50_ms": percentile_ms(everything, 50),
        "p99_ms": percentile_ms(everything, 99),
        "per_command": {k: {"count": len(v), "p50_ms": percentile_ms(v, 50), "p99_ms": percentile_ms(v, 99)}
                        for k, v in per_kind.items()},
        "connect_tls": {"count": len(connects), "p50_ms": percentile_ms(connects, 50),
                        "p99_ms": percentile_ms(connects, 99)},
        "peak_rss_kib": sampler.peak_rss,
        "peak_pss_kib": sampler.peak_pss,
        "client_cpu_s": round(sum(r["cpu_s"] for r in reports), 1),
        "machine_cpu_busy_pct": busy,
        "background_cpu_busy_pct": background,
        "notes": sorted({n for r in reports for n in r["notes"]}),
        "errors": [e for r in reports for e in r["errors"]],
    }


# --- IDLE -------------------------------------------------------------------------------------

class RawImap:
    """A minimal asyncio IMAP client: enough for LOGIN, SELECT, IDLE, APPEND and LOGOUT."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.tag = 0

    @classmethod
    async def open(cls, target, ctx, timeout):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(HOST, target["port"], ssl=ctx, limit=1 << 20), timeout)
        imap = cls(reader, writer)
        greeting = await imap.line(timeout)
        if not greeting.startswith("* OK"):
            raise CommandFailed(f"greeting: {greeting!r}")
        return imap

    async def line(self, timeout):
        data = await asyncio.wait_for(self.reader.readline(), timeout)
        if not data:
            raise EOFError("connection closed by the server")
        return data.decode(errors="replace").rstrip("\r\n")

    async def send(self, text):
        self.writer.write(text.encode() if isinstance(text, str) else text)
        await self.writer.drain()

    async def command(self, text, timeout, literal=None):
        """Sends a command (with one synchronizing literal appended if given); returns the untagged lines."""
        self.tag += 1
        tag = f"a{self.tag}"
        if literal is None:
            await self.send(f"{tag} {text}\r\n")
        else:
            await self.send(f"{tag} {text} {{{len(literal)}}}\r\n")
            while True:
                reply = await self.line(timeout)
                if reply.startswith("+"):
                    break
                if reply.startswith(tag + " "):
                    raise CommandFailed(f"{text}: {reply}")
            await self.send(literal + b"\r\n")
        untagged = []
        while True:
            reply = await self.line(timeout)
            if reply.startswith(tag + " "):
                if reply.split(" ", 2)[1] != "OK":
                    raise CommandFailed(f"{text.split()[0]}: {reply}")
                return untagged
            untagged.append(reply)

    async def idle(self, timeout):
        self.tag += 1
        self.idle_tag = f"a{self.tag}"
        await self.send(f"{self.idle_tag} IDLE\r\n")
        while True:
            reply = await self.line(timeout)
            if reply.startswith("+"):
                return reply
            if reply.startswith(self.idle_tag + " "):
                raise CommandFailed(f"IDLE: {reply}")

    async def done(self, timeout):
        await self.send("DONE\r\n")
        while True:
            reply = await self.line(timeout)
            if reply.startswith(self.idle_tag + " "):
                if reply.split(" ", 2)[1] != "OK":
                    raise CommandFailed(f"IDLE: {reply}")
                return

    async def logout(self, timeout):
        try:
            await self.command("LOGOUT", timeout)
        finally:
            self.close()

    def close(self):
        self.writer.transport.abort()


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def open_idle(target, ctx, address, timeout):
    imap = await RawImap.open(target, ctx, timeout)
    try:
        await imap.command(f"LOGIN {quoted(address)} {quoted(target['password'])}", timeout)
        await imap.command("SELECT INBOX", timeout)
        continuation = await imap.idle(timeout)
    except BaseException:
        imap.close()
        raise
    return imap, continuation


async def idle_wake(target, samples, timeout=30):
    """Time from sending an APPEND on one connection to `* n EXISTS` on another one, idling in that INBOX."""
    ctx = tls_context(target["ca"])
    address = user(0)
    watcher, _ = await open_idle(target, ctx, address, timeout)
    writer = await RawImap.open(target, ctx, timeout)
    await writer.command(f"LOGIN {quoted(address)} {quoted(target['password'])}", timeout)
    wake, append = [], []
    try:
        for n in range(samples):
            message, date = make_message(f"wake.{n}", address)
            date_text = date.strftime('"%d-%b-%Y %H:%M:%S %z"')

            async def exists():
                while True:
                    reply = await watcher.line(timeout)
                    if re.match(r"\* \d+ EXISTS", reply):
                        return time.monotonic()

            waiting = asyncio.ensure_future(exists())
            t0 = time.monotonic()
            await writer.command(f"APPEND INBOX {date_text}", timeout, literal=message)
            t_ok = time.monotonic()
            t_exists = await asyncio.wait_for(waiting, timeout)
            wake.append(t_exists - t0)
            append.append(t_ok - t0)
            await asyncio.sleep(0.05)
        await watcher.done(timeout)
        await watcher.logout(timeout)
        await writer.logout(timeout)
    finally:
        watcher.close()
        writer.close()
    wake.sort()
    append.sort()
    return {"samples": samples,
            "append_to_exists_p50_ms": percentile_ms(wake, 50), "append_to_exists_max_ms": round(wake[-1] * 1000, 2),
            "append_p50_ms": percentile_ms(append, 50)}


def meminfo_kib(field):
    return proc_kib("/proc/meminfo", field)


def memory_floor_kib():
    return max(2 << 20, meminfo_kib("MemTotal") // 10)


def memory_low():
    return meminfo_kib("MemAvailable") < memory_floor_kib()


def tree_memory(root_pid):
    pids = process_tree(root_pid)
    return {"processes": len(pids),
            "rss_kib": sum(proc_kib(f"/proc/{p}/status", "VmRSS") for p in pids),
            "pss_kib": sum(proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)}


async def idle_memory(target, count, root_pid, concurrency=64, timeout=120):
    """Opens `count` IDLE sessions over the mailboxes, measures the server's memory, closes them."""
    ctx = tls_context(target["ca"])
    await asyncio.sleep(1)
    before = tree_memory(root_pid)
    sem = asyncio.Semaphore(concurrency)
    sessions, failures = [], []
    t0 = time.monotonic()
    progress = {"n": 0}

    async def one(i):
        async with sem:
            if "reason" in stop:
                return
            try:
                imap, continuation = await open_idle(target, ctx, user(i % target["mailboxes"]), timeout)
            except Exception as e:  # noqa: BLE001
                failures.append(f"idle session {i}: {type(e).__name__}: {e}")
                return
            sessions.append((imap, continuation))
            progress["n"] += 1
            if progress["n"] % 500 == 0:
                print(f"  {progress['n']} IDLE sessions open ({time.monotonic() - t0:.0f} s)", flush=True)

    async def guard():
        """Stops opening sessions before the machine runs out of memory (it is shared)."""
        while True:
            if memory_low():
                stop["reason"] = (f"stopped opening sessions at {len(sessions)}: MemAvailable below "
                                  f"{memory_floor_kib() // 1024} MiB")
                return
            await asyncio.sleep(0.5)

    stop = {}
    watchdog = asyncio.ensure_future(guard())
    await asyncio.gather(*(one(i) for i in range(count)))
    watchdog.cancel()
    if "reason" in stop:
        failures.insert(0, stop["reason"])
    open_seconds = time.monotonic() - t0
    idling = sum(1 for _, c in sessions if c.startswith("+"))
    await asyncio.sleep(2)  # let the server settle (Dovecot forks one imap process per session)
    after = tree_memory(root_pid)
    cpu0, t_cpu = tree_cpu_seconds(root_pid), time.monotonic()
    await asyncio.sleep(5)  # what the idling sessions cost the server in CPU
    idle_cpu = (tree_cpu_seconds(root_pid) - cpu0) / (time.monotonic() - t_cpu)
    # Are they all still there? Every session must answer DONE with its tagged OK.
    sem = asyncio.Semaphore(concurrency * 4)

    async def close(imap):
        async with sem:
            try:
                await imap.done(timeout)
                await imap.logout(timeout)
            except Exception as e:  # noqa: BLE001
                failures.append(f"idle session close: {type(e).__name__}: {e}")
                imap.close()

    await asyncio.gather(*(close(imap) for imap, _ in sessions))
    await asyncio.sleep(2)
    released = tree_memory(root_pid)
    n = max(1, len(sessions))
    continuations = sorted({c for _, c in sessions})
    return {
        "sessions": count, "idling": idling, "open_seconds": round(open_seconds, 1),
        "continuation": continuations[:3],
        "before": before, "with_sessions": after, "after_logout": released,
        "server_cpu_pct_while_idling": round(100 * idle_cpu, 1),
        "rss_kib_per_session": round((after["rss_kib"] - before["rss_kib"]) / n, 1),
        "pss_kib_per_session": round((after["pss_kib"] - before["pss_kib"]) / n, 1),
        "errors": failures[:20] + ([f"... {len(failures) - 20} more"] if len(failures) > 20 else []),
    }


# --- servers --------------------------------------------------------------------------------

def read_int(path):
    try:
        return int(Path(path).read_text())
    except (OSError, ValueError):
        return None


def wait_port(port, proc, what, log, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}:\n{log()}")
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on {HOST}:{port} after {timeout} s:\n{log()}")


class PlexusServer:
    name = "plexus"

    def __init__(self, root, args):
        self.p = Plexus(root, DOMAIN)
        self.p.set_config("limits", "max_sessions", str(max(4000, args.idle_sessions * 2)))
        print(f"plexus: creating {args.mailboxes} mailboxes ...", flush=True)
        for i in range(args.mailboxes):
            self.p.add_mailbox(user(i), "PER", None, PASSWORD)
        self.target = {"port": self.p.ports["imaps"], "ca": str(self.p.ca), "password": PASSWORD,
                       "mailboxes": args.mailboxes}
        head = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        self.info = {"binary": str(PLEXUSD), "source_head": head or "?",
                     "password_scheme": "scrypt (N=2^14, r=8, p=1)"}

    @property
    def pid(self):
        return self.p.proc.pid

    def start(self):
        self.p.start()
        wait_port(self.target["port"], self.p.proc, "plexusd (IMAPS listener; is the IMAP server built?)",
                  lambda: self.p.log_text()[-3000:])

    def stop(self):
        if self.p.proc:
            self.p.stop()

    def log_tail(self):
        return self.p.log_text()[-3000:]

    def warnings(self):
        """Warning and error lines of plexusd's log, counted once per distinct message."""
        counts = {}
        for line in self.p.log_text().splitlines():
            m = re.match(r"^\S+ \S+ ([WEFC]) (.*)$", line)
            if m:
                key = re.sub(r"\d+", "N", m.group(2))  # one entry per message, whatever the numbers
                counts.setdefault(key, [0, line])[0] += 1
        return [f"{first} (x{n})" if n > 1 else first for n, first in counts.values()][:10]


class DovecotServer:
    """Debian's Dovecot from a private config, base_dir and mail directory."""
    name = "dovecot"

    def __init__(self, root, args):
        self.root = Path(root) / "dovecot"
        self.etc, self.mail = self.root / "etc", self.root / "mail"
        for d in (self.etc, self.mail, self.root / "run", self.root / "state"):
            d.mkdir(parents=True)
        self.root.chmod(0o755)
        mail_user = pwd.getpwnam(args.dovecot_mail_user)
        os.chown(self.mail, mail_user.pw_uid, mail_user.pw_gid)
        self.port = free_port_offset() + 993
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", str(self.etc / "key.pem"),
                        "-out", str(self.etc / "cert.pem")], check=True, capture_output=True, timeout=60)
        hashes = []
        for i in range(args.mailboxes):
            r = subprocess.run(["doveadm", "pw", "-s", args.dovecot_scheme, "-p", PASSWORD],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"doveadm pw -s {args.dovecot_scheme} failed: {r.stderr.strip()}")
            hashes.append(f"{user(i)}:{r.stdout.strip()}\n")
        (self.etc / "users").write_text("".join(hashes))
        self.conf = self.etc / "dovecot.conf"
        self.conf.write_text(self.config(args, mail_user))
        self.proc = None
        self.log = None
        r = subprocess.run(["doveconf", "-n", "-c", str(self.conf)], capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or r.stderr.strip():
            raise RuntimeError(f"doveconf -n -c {self.conf}:\n{r.stderr}")
        version = subprocess.run(["dovecot", "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        self.target = {"port": self.port, "ca": str(self.etc / "cert.pem"), "password": PASSWORD,
                       "mailboxes": args.mailboxes}
        self.info = {"version": version, "password_scheme": args.dovecot_scheme,
                     "mail_location": args.dovecot_mail, "mail_fsync": "optimized",
                     "imap_hibernate_timeout": args.dovecot_hibernate,
                     # Each idling Dovecot session needs an inotify instance (all run as one uid); past
                     # this kernel limit Dovecot polls every 30 s and cannot hibernate sessions.
                     "inotify_max_user_instances": read_int("/proc/sys/fs/inotify/max_user_instances")}

    def config(self, args, mail_user):
        group = grp.getgrgid(mail_user.pw_gid).gr_name
        location = {"maildir": "maildir:~/Maildir", "sdbox": "sdbox:~/sdbox", "mdbox": "mdbox:~/mdbox"}
        return f"""\
# Written by tests/bench/imap_mixed.py: Debian's Dovecot, IMAPS only, on 127.0.0.1.
protocols = imap
listen = {HOST}
base_dir = {self.root / "run"}
state_dir = {self.root / "state"}
instance_name = plexus-bench-dovecot
log_path = {self.root / "dovecot.log"}
info_log_path = {self.root / "dovecot.log"}
ssl = required
ssl_cert = <{self.etc / "cert.pem"}
ssl_key = <{self.etc / "key.pem"}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
# No delay after failed logins (there should be none) and no credential cache: every LOGIN hashes.
auth_failure_delay = 0
auth_cache_size = 0
passdb {{
  driver = passwd-file
  args = scheme={args.dovecot_scheme} username_format=%u {self.etc / "users"}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.mail}/%d/%n
}}
mail_location = {location[args.dovecot_mail]}
mail_fsync = optimized
first_valid_uid = {min(500, mail_user.pw_uid)}
first_valid_gid = {min(1, mail_user.pw_gid)}
namespace inbox {{
  inbox = yes
  separator = /
}}
login_trusted_networks = 127.0.0.0/8
# Enough processes and connections for 20 clients and {args.idle_sessions} IDLE sessions.
default_client_limit = 20000
default_process_limit = 100
default_vsz_limit = 1G
protocol imap {{
  mail_max_userip_connections = 10000
  imap_hibernate_timeout = {args.dovecot_hibernate}
}}
# Login processes in "high-performance" mode: each serves many connections (and proxies their TLS).
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.port}
    ssl = yes
  }}
  service_count = 0
  process_min_avail = {os.cpu_count() or 2}
  process_limit = 64
  client_limit = 10000
}}
service imap {{
  process_limit = 10000
  # For --dovecot-hibernate: imap-hibernate (the internal user) hands sessions back to imap.
  unix_listener imap-master {{
    user = $default_internal_user
  }}
}}
service imap-hibernate {{
  unix_listener imap-hibernate {{
    mode = 0660
    group = $default_internal_group
  }}
}}
# mail user {mail_user.pw_name}:{group}
"""

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.log = open(self.root / "dovecot.stderr", "ab")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(self.conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "dovecot", self.log_tail)

    def stop(self):
        if not self.proc:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

    def log_tail(self):
        text = ""
        for name in ("dovecot.stderr", "dovecot.log"):
            f = self.root / name
            if f.exists():
                text += "\n".join(f.read_text(errors="replace").splitlines()[-20:]) + "\n"
        return text

    def warnings(self):
        """Warnings and errors of the log, counted once per distinct message."""
        f = self.root / "dovecot.log"
        if not f.exists():
            return []
        counts = {}
        for line in f.read_text(errors="replace").splitlines():
            m = re.search(r"^\w+ \d+ [\d:]+ ([\w-]+)(?:\([^)]*\))?(?:<[^>]*>)*: ((?:Warning|Error|Fatal|Panic): .*)", line)
            if m and "Killed with signal 15" not in line:
                key = f"{m.group(1)}: {m.group(2)}"
                counts[key] = counts.get(key, 0) + 1
        return [f"{k} (x{n})" if n > 1 else k for k, n in counts.items()][:10]


def tree_cpu_seconds(root_pid):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def wait_quiet(root_pid, limit=60):
    """Waits until the server uses under 5 % of a core (background work after seeding); returns the wait."""
    t0 = time.monotonic()
    last = tree_cpu_seconds(root_pid)
    while time.monotonic() - t0 < limit:
        time.sleep(1)
        now = tree_cpu_seconds(root_pid)
        if now - last < 0.05:
            break
        last = now
    return round(time.monotonic() - t0, 1)


def bench_server(server, args):
    result = {"server": server.info}
    try:
        server.start()
        print(f"{server.name}: seeding {args.mailboxes} mailboxes x {args.messages} messages by APPEND ...",
              flush=True)
        mailboxes, seeded = seed(server.target, args)
        result.update(seeded)
        result["quiet_wait_s"] = wait_quiet(server.pid)
        print(f"{server.name}: {args.clients} clients, {args.warmup:g} s warm-up, {args.seconds:g} s measured ...",
              flush=True)
        result.update(run_load(server.target, mailboxes, args, server.pid))
        if args.idle_wake:
            print(f"{server.name}: IDLE wake-up, {args.idle_wake} deliveries ...", flush=True)
            result["idle_wake"] = asyncio.run(asyncio.wait_for(idle_wake(server.target, args.idle_wake), 300))
        if args.idle_sessions:
            # A fresh process, so that memory freed by the load phase does not absorb the sessions' cost.
            server.stop()
            server.start()
            print(f"{server.name}: {args.idle_sessions} IDLE sessions ...", flush=True)
            result["idle"] = asyncio.run(asyncio.wait_for(
                idle_memory(server.target, args.idle_sessions, server.pid), 600 + args.idle_sessions * 0.2))
            result["errors"] += result["idle"]["errors"]
            if result["idle"]["idling"] != args.idle_sessions:
                result["errors"].append(f"{result['idle']['idling']} of {args.idle_sessions} sessions idling")
    except Exception as e:  # noqa: BLE001 -- reported with the server's log
        result.setdefault("errors", []).append(f"{type(e).__name__}: {e}\n{server.log_tail()}")
    finally:
        server.stop()
        result["log_warnings"] = server.warnings()
    return result


# --- report ------------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


def print_table(results):
    names = list(results)

    def get(r, path):
        for key in path.split("."):
            if not isinstance(r, dict) or key not in r:
                return None
            r = r[key]
        return r

    rows = [("sessions", "sessions"), ("commands", "commands"), ("commands/s", "commands_per_s"),
            ("p50 latency (ms)", "p50_ms"), ("p99 latency (ms)", "p99_ms")]
    for k in KINDS:
        rows.append((f"  {k} p50/p99 (ms)", (f"per_command.{k}.p50_ms", f"per_command.{k}.p99_ms")))
    rows += [("  TLS connect p50/p99 (ms)", ("connect_tls.p50_ms", "connect_tls.p99_ms")),
             ("peak RSS, sum (MiB)", "peak_rss_kib"), ("peak PSS, sum (MiB)", "peak_pss_kib"),
             ("client CPU (s)", "client_cpu_s"), ("machine CPU busy (%)", "machine_cpu_busy_pct"),
             ("CPU busy before run (%)", "background_cpu_busy_pct"),
             ("seeding (appends/s)", "seed_appends_per_s"),
             ("IDLE wake p50/max (ms)", ("idle_wake.append_to_exists_p50_ms", "idle_wake.append_to_exists_max_ms")),
             ("IDLE sessions idling", "idle.idling"),
             ("  open time (s)", "idle.open_seconds"),
             ("  server processes", ("idle.before.processes", "idle.with_sessions.processes")),
             ("  RSS before/with (MiB)", ("idle.before.rss_kib", "idle.with_sessions.rss_kib")),
             ("  PSS before/with (MiB)", ("idle.before.pss_kib", "idle.with_sessions.pss_kib")),
             ("  server CPU idling (%)", "idle.server_cpu_pct_while_idling"),
             ("  RSS per session (KiB)", "idle.rss_kib_per_session"),
             ("  PSS per session (KiB)", "idle.pss_kib_per_session"),
             ("errors", "error_count")]
    width = 18
    print(f"\n{'':30}" + "".join(f"{n:>{width}}" for n in names))
    for label, path in rows:
        cells = []
        for n in names:
            r = results[n]
            if isinstance(path, tuple):
                vals = [get(r, p) for p in path]
                if path[0].endswith("_kib"):
                    vals = [None if v is None else round(v / 1024, 1) for v in vals]
                cell = "/".join(fmt(v) for v in vals)
            else:
                v = len(r.get("errors", [])) if path == "error_count" else get(r, path)
                cell = fmt(round(v / 1024, 1) if (v is not None and path.endswith("_kib")) else v)
            cells.append(f"{cell:>{width}}")
        print(f"{label:30}" + "".join(cells))
    for n in names:
        info = results[n].get("server", {})
        print(f"{n}: " + ", ".join(f"{k} {v}" for k, v in info.items()))
        for note in results[n].get("notes", []):
            print(f"{n}: note: {note}")
        for w in results[n].get("log_warnings", []):
            print(f"{n}: log: {w}")
        for e in results[n].get("errors", [])[:20]:
            print(f"{n}: ERROR: {e}")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20, help="measured window per server (default 20)")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured load before the window (default 3)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent client processes (default 20)")
    ap.add_argument("--mailboxes", type=int, default=100, help="mailboxes u000..u099 (default 100)")
    ap.add_argument("--messages", type=int, default=200, help="messages seeded per mailbox (default 200)")
    ap.add_argument("--rounds", type=int, default=5, help="fetch/fetch/search/store rounds per session (default 5)")
    ap.add_argument("--seed-clients", type=int, default=20, help="parallel APPEND sessions while seeding (default 20)")
    ap.add_argument("--idle-sessions", type=int, default=2000, help="IDLE sessions for the memory figure "
                    "(default 2000, 0 to skip)")
    ap.add_argument("--idle-wake", type=int, default=10, help="deliveries timed to wake an IDLE session "
                    "(default 10, 0 to skip)")
    ap.add_argument("--servers", default="plexus,dovecot", help="comma-separated subset of plexus,dovecot")
    ap.add_argument("--dovecot-scheme", default="BLF-CRYPT", help="Dovecot password scheme (default BLF-CRYPT)")
    ap.add_argument("--dovecot-mail", default="maildir", choices=("maildir", "sdbox", "mdbox"),
                    help="Dovecot mailbox format (default maildir)")
    ap.add_argument("--dovecot-mail-user", default="nobody", help="system user owning Dovecot's mail (default nobody)")
    ap.add_argument("--dovecot-hibernate", default="0",
                    help="Dovecot imap_hibernate_timeout, e.g. 2s (default 0: IDLE sessions keep their imap process)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (for debugging)")
    args = ap.parse_args()
    if args.messages < 20:
        ap.error("--messages must be at least 20 (a header fetch takes 20 messages)")
    return args


def raise_fd_limit(wanted, needed):
    """Raises RLIMIT_NOFILE (inherited by the servers) to `wanted` if allowed, else to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return
        except (ValueError, OSError):
            pass  # no CAP_SYS_RESOURCE (a container): the hard limit it is
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {needed}, too low for the IDLE sessions: "
                 "raise it (ulimit -Hn) or use fewer --idle-sessions")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    args = parse_args()
    servers = [s for s in args.servers.split(",") if s]
    unknown = set(servers) - {"plexus", "dovecot"}
    if unknown:
        sys.exit(f"unknown server(s): {', '.join(sorted(unknown))}")
    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot starts as root and switches to its own users")
    if "plexus" in servers and not (PLEXUSD.exists() and PLEXUSCTL.exists()):
        sys.exit(f"{PLEXUSD} or {PLEXUSCTL} missing: build first (make build) or set PLEXUS_BUILD_DIR")
    if "dovecot" in servers and not shutil.which("dovecot"):
        sys.exit("dovecot not found: apt-get install dovecot-imapd (packaging/install-deps.sh)")
    # Servers inherit this limit: 2,000 TLS sessions need several descriptors each in Dovecot.
    raise_fd_limit(65536, max(8192, args.idle_sessions * 4))
    root = Path(tempfile.mkdtemp(prefix="plexus-bench-imap-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes traverse it
    results = {}
    try:
        for name in servers:
            try:
                server = (PlexusServer if name == "plexus" else DovecotServer)(root, args)
            except Exception as e:  # noqa: BLE001
                results[name] = {"errors": [f"setting up {name}: {type(e).__name__}: {e}"]}
                continue
            results[name] = bench_server(server, args)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    summary = {}
    if all(n in results and results[n].get("commands_per_s") for n in ("plexus", "dovecot")):
        summary["plexus_dovecot_throughput_ratio"] = round(
            results["plexus"]["commands_per_s"] / results["dovecot"]["commands_per_s"], 2)
    print_table(results)
    if "plexus_dovecot_throughput_ratio" in summary:
        ratio = summary["plexus_dovecot_throughput_ratio"]
        print(f"throughput ratio Plexus/Dovecot: {ratio} (aim: at least 1.5)")
    if "plexus" in results and "idle" in results["plexus"]:
        per = results["plexus"]["idle"]["rss_kib_per_session"]
        print(f"Plexus RSS per idle IDLE session: {per} KiB (aim: at most 64)")
    if args.json:
        Path(args.json).write_text(json.dumps({**results, **summary}, indent=2) + "\n")
    failed = [n for n, r in results.items() if r.get("errors") or not r.get("commands")]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
