DROP TABLE click_batches;
