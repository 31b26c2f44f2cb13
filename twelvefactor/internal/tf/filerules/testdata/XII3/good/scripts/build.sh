#!/bin/sh
set -e
# no psql here
go build ./...
