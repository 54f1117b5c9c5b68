/*-------------------------------------------------------------------------
 *
 * s3_xml.h
 *	  Reading the small XML documents S3 and STS answer with (listings,
 *	  errors, multipart upload ids, temporary credentials), with expat.
 *
 * The caller gets each element's text when the element ends, with the
 * names of the elements around it, and picks what it needs; unknown
 * elements are ignored, as a forward-compatible client must.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_S3_XML_H
#define CDC_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "bytebuf.h"

/*
 * name: the element's local name (namespace stripped); parent: its
 * parent's, "" at the top; text: its character data (leading and trailing
 * white space kept; empty for an element with children).
 */
typedef void (*S3XmlFn) (const char *parent, const char *name,
						 const char *text, void *arg);

/* false + errstr if the document is not well-formed XML. */
extern bool s3_xml_parse(const char *doc, size_t len, S3XmlFn fn, void *arg,
						 char *errstr, size_t errlen);

/*
 * The text of the first element called name anywhere in doc, copied into
 * out (truncated to outlen - 1); false if there is none or doc is not XML.
 */
extern bool s3_xml_find(const char *doc, size_t len, const char *name,
						char *out, size_t outlen);

/* Appends text to buf escaped for XML character data. */
extern void s3_xml_escape(ByteBuf *buf, const char *text);

#endif							/* CDC_S3_XML_H */
