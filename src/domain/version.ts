/** Crucible's release, as `crucible --version`, the API's OpenAPI document and trace resources say it. */
export const CRUCIBLE_VERSION = '0.1.0';
