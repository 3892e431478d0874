/* Proactive REFRESH, its TERMINAL RESPONSE and the TERMINAL PROFILE (TS 102 223). */
#include "ota/cat.h"

#include <criterion/criterion.h>
#include <string.h>

static m2m_cat_command refresh(void)
{
	/* NAA initialisation and file change notification of EF IMSI (3F00 7FFF 6F07). */
	m2m_cat_command c = {.number = 1, .type = M2M_CAT_CMD_REFRESH, .qualifier = M2M_CAT_REFRESH_INIT_FCN};
	uint8_t files[] = {0x01, 0x3F, 0x00, 0x7F, 0xFF, 0x6F, 0x07};
	memcpy(c.files, files, sizeof files);
	c.files_len = sizeof files;
	return c;
}

Test(cat, refresh_command_layout_and_round_trip)
{
	m2m_cat_command c = refresh(), got;
	uint8_t out[64];
	size_t n;
	cr_assert_eq(m2m_cat_command_build(&c, out, sizeof out, &n), 0);
	uint8_t want[] = {0xD0, 0x12, 0x81, 0x03, 0x01, 0x01, 0x02, 0x82, 0x02, 0x81, 0x82,
			  0x92, 0x07, 0x01, 0x3F, 0x00, 0x7F, 0xFF, 0x6F, 0x07};
	cr_assert_eq(n, sizeof want);
	cr_expect_arr_eq(out, want, n);
	cr_assert_eq(m2m_cat_command_parse(out, n, &got), 0);
	cr_expect_eq(got.number, 1);
	cr_expect_eq(got.type, M2M_CAT_CMD_REFRESH);
	cr_expect_eq(got.qualifier, M2M_CAT_REFRESH_INIT_FCN);
	cr_expect_eq(got.files_len, 7);
	cr_expect_arr_eq(got.files, c.files, 7);
}

Test(cat, refresh_without_files_and_without_cr_bits)
{
	uint8_t in[] = {0xD0, 0x09, 0x01, 0x03, 0x05, 0x01, 0x04, 0x02, 0x02, 0x81, 0x82};
	m2m_cat_command got;
	cr_assert_eq(m2m_cat_command_parse(in, sizeof in, &got), 0);
	cr_expect_eq(got.number, 5);
	cr_expect_eq(got.qualifier, M2M_CAT_REFRESH_UICC_RESET);
	cr_expect_eq(got.files_len, 0);
}

Test(cat, malformed_commands)
{
	m2m_cat_command c = refresh(), got;
	uint8_t out[64];
	size_t n;
	cr_assert_eq(m2m_cat_command_build(&c, out, sizeof out, &n), 0);
	cr_expect_eq(m2m_cat_command_parse(out, n - 1, &got), -1, "truncated");
	out[9] = 0x83;  /* from the network, not the UICC */
	cr_expect_eq(m2m_cat_command_parse(out, n, &got), -1, "device identities");
	out[9] = 0x81;
	out[0] = 0xD1;
	cr_expect_eq(m2m_cat_command_parse(out, n, &got), -1, "not proactive");
	uint8_t no_details[] = {0xD0, 0x04, 0x82, 0x02, 0x81, 0x82};
	cr_expect_eq(m2m_cat_command_parse(no_details, sizeof no_details, &got), -1);
	uint8_t empty_files[] = {0xD0, 0x0B, 0x81, 0x03, 0x01, 0x01, 0x00, 0x82, 0x02, 0x81, 0x82, 0x92, 0x00};
	cr_expect_eq(m2m_cat_command_parse(empty_files, sizeof empty_files, &got), -1);
	c.files_len = M2M_CAT_FILES_MAX + 1;
	cr_expect_eq(m2m_cat_command_build(&c, out, sizeof out, &n), -1);
	c.files_len = 7;
	cr_expect_eq(m2m_cat_command_build(&c, out, 10, &n), -1, "cap");
}

Test(cat, terminal_response_round_trip)
{
	m2m_cat_command c = refresh(), got;
	uint8_t out[32], result = 0xFF;
	size_t n;
	cr_assert_eq(m2m_cat_terminal_response_build(&c, M2M_CAT_RESULT_OK_ADDITIONAL_EFS_READ, out, sizeof out, &n), 0);
	uint8_t want[] = {0x81, 0x03, 0x01, 0x01, 0x02, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x03};
	cr_assert_eq(n, sizeof want);
	cr_expect_arr_eq(out, want, n);
	cr_assert_eq(m2m_cat_terminal_response_parse(out, n, &got, &result), 0);
	cr_expect_eq(result, M2M_CAT_RESULT_OK_ADDITIONAL_EFS_READ);
	cr_expect_eq(got.number, 1);
	cr_expect_eq(got.qualifier, M2M_CAT_REFRESH_INIT_FCN);

	cr_expect_eq(m2m_cat_terminal_response_parse(out, n - 3, &got, &result), -1, "no result");
	out[7] = 0x81;
	cr_expect_eq(m2m_cat_terminal_response_parse(out, n, &got, &result), -1, "from the UICC");
	/* A result with additional information: the general result is its first byte. */
	uint8_t busy[] = {0x01, 0x03, 0x01, 0x01, 0x02, 0x02, 0x02, 0x82, 0x81, 0x03, 0x02, 0x20, 0x01};
	cr_assert_eq(m2m_cat_terminal_response_parse(busy, sizeof busy, &got, &result), 0);
	cr_expect_eq(result, M2M_CAT_RESULT_UNABLE_NOW);
}

Test(cat, terminal_profile)
{
	cr_expect(m2m_cat_profile_has(m2m_cat_me_profile, m2m_cat_me_profile_len, M2M_CAT_PROFILE_SMS_PP_DOWNLOAD));
	cr_expect(m2m_cat_profile_has(m2m_cat_me_profile, m2m_cat_me_profile_len, M2M_CAT_PROFILE_REFRESH));
	uint8_t none[] = {0x01, 0x00};
	cr_expect_not(m2m_cat_profile_has(none, sizeof none, M2M_CAT_PROFILE_SMS_PP_DOWNLOAD));
	cr_expect_not(m2m_cat_profile_has(none, sizeof none, M2M_CAT_PROFILE_REFRESH), "byte 3 absent");
	uint8_t only_refresh[] = {0x00, 0x00, 0x80};
	cr_expect(m2m_cat_profile_has(only_refresh, 3, 3, 8));
	cr_expect_not(m2m_cat_profile_has(only_refresh, 3, 3, 7));
	cr_expect_not(m2m_cat_profile_has(only_refresh, 3, 0, 1));
	cr_expect_not(m2m_cat_profile_has(only_refresh, 3, 3, 9));
}
