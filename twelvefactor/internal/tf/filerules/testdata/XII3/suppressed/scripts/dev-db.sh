#!/bin/sh
# twelvefactor:ignore XII3 creates the local development database only
psql postgres://localhost/postgres -c 'CREATE DATABASE app'
