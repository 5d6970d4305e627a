import pytest

from serverless_analytics.logic.api_keys import credential_from_headers, key_id_of


@pytest.mark.parametrize(
    ('headers', 'credential'),
    [
        ({'Authorization': 'Bearer k1'}, 'k1'),
        ({'authorization': 'bearer  k1 '}, 'k1'),
        ({'PRIVATE-TOKEN': 'k2'}, 'k2'),
        ({'Coder-Session-Token': 'k3'}, 'k3'),
        ({'Authorization': 'eyJ.token.sig'}, 'eyJ.token.sig'),  # Cube's clients send the token bare
        ({'Authorization': 'undefined', 'private-token': 'k2'}, 'k2'),  # GitLab's frontend transport
        ({'Authorization': 'undefined'}, None),
        ({'Authorization': 'Basic dXNlcjpwYXNz'}, None),
        ({'Authorization': 'Bearer '}, None),
        ({}, None),
    ],
)
def test_credential_is_found_where_each_client_family_sends_it(headers, credential):
    assert credential_from_headers(headers) == credential


def test_key_ids_are_a_digest_prefix_and_reveal_nothing_of_the_key():
    # sha256(b'local-dev-key'), computed apart from the code
    assert key_id_of('local-dev-key') == 'ed5a18fb8f807f996d649e37'
    assert key_id_of('local-dev-key2') != key_id_of('local-dev-key')
