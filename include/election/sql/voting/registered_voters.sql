SELECT count(*) FROM voters;
