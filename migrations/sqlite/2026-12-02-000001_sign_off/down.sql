DROP TABLE sign_offs;
