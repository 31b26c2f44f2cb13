#!/bin/sh
set -e
psql "$DATABASE_URL" -c 'TRUNCATE links'
