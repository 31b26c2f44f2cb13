DROP TABLE click_events;
