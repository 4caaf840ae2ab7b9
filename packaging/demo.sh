#!/usr/bin/env bash
# Runs a demo instance: embedded SQLite store, development PKI, demo mailboxes,
# unprivileged ports (standard port + 10000). Re-running reuses the instance.
set -euo pipefail
build=${1:-build}
dir=${2:-demo}
domain=demo.mssante.test
ctl() { "$build/server/cli/plexusctl" --config "$dir/plexus.conf" "$@"; }

if [ ! -f "$dir/plexus.conf" ]; then
  "$build/server/cli/plexusctl" init --dir "$dir" --domain "$domain" --listen 127.0.0.1 --port-offset 10000
  echo 'demo-martin' | ctl mailbox add dr.martin@$domain --type PER --rpps 810000000001 --password-stdin
  echo 'demo-durand' | ctl mailbox add ide.durand@$domain --type PER --rpps 810000000002 --password-stdin
  ctl mailbox add secretariat.cardio@$domain --type ORG --finess 750000001
  ctl delegate add secretariat.cardio@$domain dr.martin@$domain
  ctl mailbox add labo@$domain --type APP --finess 750000002
  ctl cert issue labo@$domain --out "$dir/certs"
  # The SDK's example plugin: every message received gets an X-Plexus-Example header.
  ctl plugin add "$build/sdk/plexus-sdk-example.so" --name example
fi

port() { sed -n "s/^$1 = //p" "$dir/plexus.conf"; }
cat <<TXT

Plexus demo for $domain (data in $dir/)
  SMTP submission  127.0.0.1:$(port submission) (STARTTLS)   submissions 127.0.0.1:$(port submissions) (TLS)
  IMAP             127.0.0.1:$(port imap) (STARTTLS)   imaps 127.0.0.1:$(port imaps) (TLS)
  MX (operators)   127.0.0.1:$(port mx) (STARTTLS + client certificate)
  HTTPS API        https://127.0.0.1:$(port http)/healthz  /metrics  /.well-known/autoconfig/mail/config-v1.1.xml
  CA certificate   $dir/pki/ca.crt   (trust it in the mail client)

  dr.martin@$domain     password demo-martin   (PER, RPPS 810000000001, delegate of secretariat.cardio@)
  ide.durand@$domain    password demo-durand   (PER, RPPS 810000000002)
  secretariat.cardio@$domain                   (ORG: log in as dr.martin; IMAP folder Shared/secretariat.cardio@$domain/INBOX)
  labo@$domain          certificate $dir/certs/labo@$domain.crt (APP, SASL EXTERNAL)
  plugin "example"      adds X-Plexus-Example to every message received (plexusctl --config $dir/plexus.conf plugins)

  Try: swaks --server 127.0.0.1:$(port submission) --tls --tls-ca-path $dir/pki/ca.crt \\
         --auth PLAIN --auth-user dr.martin@$domain --auth-password demo-martin \\
         --from dr.martin@$domain --to ide.durand@$domain
  Then: curl --ssl-reqd --cacert $dir/pki/ca.crt -u ide.durand@$domain:demo-durand \\
         'imaps://127.0.0.1:$(port imaps)/INBOX;UID=1'

TXT
exec "$build/server/app/plexusd" --config "$dir/plexus.conf"
