"""Names vulture (https://github.com/jendrikseipp/vulture) reports as unused but that are used.

tests/test_dead_code.py runs vulture over core/, adapters/, cli/ and testing/ with this
file: anything it reports beyond these names is dead code to remove (or, if it is public
API or used from outside the package, a line here saying why).
"""
# ruff: noqa
# fmt: off
from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Attributes set on other libraries' objects (reprlib.Repr limits, RE2 options, asks'
# response reader), read by those libraries.
_.maxlevel; _.maxstring; _.maxother; _.maxlong; _.maxdict; _.maxfrozenset; _.maxlist; _.maxset; _.maxtuple
_.log_errors; _.never_capture
_.decompress_data; _.read_size
_.__doc__  # the 5.x validator functions get their docstrings set

# Protocols' __call__ (the type of compiled checks and predicates) and module __getattr__
# (deprecated 5.x names answered lazily).
__call__
__getattr__

# Names the tests of each tier reach through aiogoogle.validate, and the reference form of
# Rule.sure the tests compare the generated code with.
_interpret
sure_test

# aiogoogle 5.x's public API, kept for compatibility (tests/test_compat_519.py).
OPENID_CONFIGS_DISCOVERY_DOC_URL; OAUTH2_DISCOVERY_DOCUMENT_URL; AUTH_CODE_RESPONSE_TYPE; HYBRID_RESPONSE_TYPE
AUTH_CODE_GRANT_TYPE; REFRESH_GRANT_TYPE; JWT_GRANT_TYPE; URLENCODED_CONTENT_TYPE; OOB_REDIRECT_URI; DEFAULT_ISS
GOOGLE_OAUTH2_CERTS_URL; TOKEN_INFO_URI; GCE_METADATA_SERVER_URI; GCE_DEFAULT_SERVICE_ACCOUNT_URL
GCE_METADATA_HEADERS; GCE_METADATA_IP; GCE_METADATA_IP_ROOT; GCE_METADATA_DEFAULT_TIMEOUT
GOOGLE_DISCOVERY_SERVICE_URL_FMT_V2
_.discover_endpoints; _.oauth2_api; _.openid_configs; _.get_token_info; _.get_me_info; _.is_ready
_.authorized_for_method; _.get_user_info; _.get_token_info_jwt
_.file_body; _.run_validation; _.read_file; _.aiter_file; _.from_response; _.next_page
_.with_root_url; _.optional_parameters; _.path_parameters; _.query_parameters
_.required_query_parameters; _.optional_query_parameters

# Public API used by applications, not by the package itself.
as_id_token; _.as_id_token  # Aiogoogle.as_id_token and its overloads
verification_url_complete  # a field of the device flow's prompt, for the caller to show

# aiogoogle.testing's API for test suites (the local server and its doubles).
run_calls; _.run_calls; _.add_pool; _.add_aws_key; _.issue_workforce_refresh_token; _.deny
_.fail_token_requests; _.allow_impersonation; _.expire_access_tokens; _.put
peer_port; _.running; _.discovery_root; _.add_handler; _.add_document; _.collection

# The pytest plugin's hooks and fixtures (aiogoogle.testing.contract), called by pytest.
pytest_addoption; pytest_generate_tests; clean_server; tls_server; other_server

# trio.abc.Stream's abstract method on TrioSession's socket stream, called by trio's SSLStream.
_.wait_send_all_might_not_block
