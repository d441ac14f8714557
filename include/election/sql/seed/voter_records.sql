-- The election's voters as published to voters_topic (CSV out of COPY, read by Arrow): the table's columns.
COPY (
    SELECT election_id, voter_id, voter_name, date_of_birth, gender, nationality, registration_number,
           address_street, address_city, address_state, address_country, address_postcode, email, phone_number,
           cell_number, picture, registered_age
    FROM voters
    WHERE election_id = %(election_id)s
    ORDER BY voter_id
) TO STDOUT (FORMAT csv, HEADER true)
