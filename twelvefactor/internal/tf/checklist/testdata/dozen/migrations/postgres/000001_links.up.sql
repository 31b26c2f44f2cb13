CREATE TABLE links (code text PRIMARY KEY, url text NOT NULL);
