/*-------------------------------------------------------------------------
 *
 * list_files.h
 *	  "cdc_delta_writer ls TABLE_PATH [VERSION]": a table's live Parquet
 *	  files, so any Parquet reader can read a consistent snapshot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_LIST_FILES_H
#define CDC_WRITER_LIST_FILES_H

/* argv[0] is "ls"; returns the exit code (0, 1 usage, 2 unreadable). */
extern int	list_files_main(int argc, char **argv);

#endif							/* CDC_WRITER_LIST_FILES_H */
