/**
 * fd numbers of the extra streams every launch gets (0-2 are the program's stdio). Shared by the
 * launcher's command line, the sandboxes' command lines and the Launch that reads them; kept in a
 * module of their own so none of those has to import another just for two numbers.
 */
export const STATUS_FD = 3;
export const CODE_FD = 4;
