#!/bin/sh
# The mailbox tests poll a real IMAP server: Debian's Dovecot, started by the tests with a
# throwaway configuration of their own. Install it when missing and we are allowed to; the
# system service is never started (the tests run their own on a free port).
if [ -x /usr/sbin/dovecot ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's dovecot-imapd for the mailbox tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
else
  echo "dovecot is not installed: the mailbox tests will be skipped (they fail under CI=true)."
fi
