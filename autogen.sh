#!/bin/sh
# Generates ./configure from configure.ac (a fresh clone has none).
set -e
cd "$(dirname "$0")"
autoreconf -fi
