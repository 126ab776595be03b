/*-------------------------------------------------------------------------
 *
 * encoding.c
 *		Parquet value and level encodings: PLAIN, the RLE / bit-packed
 *		hybrid, BIT_PACKED, the DELTA family and BYTE_STREAM_SPLIT.
 *
 * These are the scan's hot loops, so they decode in bulk: PLAIN fixed-width
 * values are one memcpy, bit-packed runs are unpacked eight values at a time
 * from unaligned 64-bit loads, and the DELTA decoders unpack whole groups of
 * eight before summing.  Every read is checked against the end of the input
 * first; the fast paths only run where the wide loads stay inside it.
 *
 * The wide loads and the PLAIN memcpy assume a little-endian host, like the
 * file format; a big-endian build stops at the #error below.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/encoding.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet decoder assumes a little-endian host"
#endif

/* Values decoded per step when a conversion pass follows (levels, bools). */
#define CHUNK_VALUES	1024

/* Most bytes one DELTA_BYTE_ARRAY page may build in the arena. */
#define DELTA_BUILD_MAX		((uint64_t) PQ_MAX_PAGE_SIZE)

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t
load32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t
mask_bits(int bw)
{
	return bw >= 64 ? ~(uint64_t) 0 : (((uint64_t) 1 << bw) - 1);
}

/*
 * Read a ULEB128 varint of at most 10 bytes from *p (< end).  false if the
 * input ends inside it or it does not fit 64 bits.
 */
static inline bool
read_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t	v = 0;
	int			shift = 0;

	while (q < end)
	{
		uint8_t		b = *q++;

		if (shift == 63 && (b & 0x7e) != 0)
			return false;
		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
		{
			*p = q;
			*out = v;
			return true;
		}
		shift += 7;
		if (shift > 63)
			return false;
	}
	return false;
}

static inline uint64_t
unzigzag(uint64_t v)
{
	return (v >> 1) ^ (~(v & 1) + 1);
}

/*
 * The value of bw bits (0..64) at bit offset bit of base, LSB-first.  The
 * caller guarantees bytes [bit / 8, (bit + bw - 1) / 8] exist.
 */
static inline uint64_t
get_bits(const uint8_t *base, uint64_t bit, int bw)
{
	const uint8_t *q;
	uint64_t	v;
	int			have;
	int			k = 1;

	if (bw == 0)
		return 0;
	q = base + (bit >> 3);
	v = q[0] >> (bit & 7);
	have = 8 - (int) (bit & 7);
	while (have < bw)
	{
		v |= (uint64_t) q[k++] << have;
		have += 8;
	}
	return v & mask_bits(bw);
}

/*
 * Unpack 8 values of bw bits (1..32) from in (the group's bw bytes).  Reads
 * up to in[bw + 7]: the caller checks that those bytes exist.
 */
static inline __attribute__((always_inline)) void
unpack8_32(const uint8_t *in, uint32_t *out, int bw)
{
	uint64_t	mask = mask_bits(bw);
	int			j;

	for (j = 0; j < 8; j++)
	{
		unsigned	bit = (unsigned) (j * bw);

		out[j] = (uint32_t) ((load64(in + (bit >> 3)) >> (bit & 7)) & mask);
	}
}

/*
 * The same for 64-bit values, bw 1..64.  Reads up to in[bw + 8].
 */
static inline __attribute__((always_inline)) void
unpack8_64(const uint8_t *in, uint64_t *out, int bw)
{
	uint64_t	mask = mask_bits(bw);
	int			j;

	for (j = 0; j < 8; j++)
	{
		unsigned	bit = (unsigned) (j * bw);
		unsigned	sh = bit & 7;
		uint64_t	v = load64(in + (bit >> 3)) >> sh;

		if (sh + (unsigned) bw > 64)
			v |= (uint64_t) in[(bit >> 3) + 8] << (64 - sh);
		out[j] = v & mask;
	}
}

/*
 * Unpack n groups of 8 values (24 bytes of slack after them guaranteed by
 * the caller).  The switch gives the compiler a constant width for the
 * common cases, which turns the per-value shifts into immediates.
 */
static void
unpack_groups_32(const uint8_t *in, uint32_t *out, int64_t ngroups, int bw)
{
	int64_t		g;

#define UNPACK_CASE(W) \
	case W: \
		for (g = 0; g < ngroups; g++) \
			unpack8_32(in + g * W, out + g * 8, W); \
		break

	switch (bw)
	{
			UNPACK_CASE(1);
			UNPACK_CASE(2);
			UNPACK_CASE(3);
			UNPACK_CASE(4);
			UNPACK_CASE(5);
			UNPACK_CASE(6);
			UNPACK_CASE(7);
			UNPACK_CASE(8);
			UNPACK_CASE(9);
			UNPACK_CASE(10);
			UNPACK_CASE(11);
			UNPACK_CASE(12);
			UNPACK_CASE(13);
			UNPACK_CASE(14);
			UNPACK_CASE(15);
			UNPACK_CASE(16);
			UNPACK_CASE(17);
			UNPACK_CASE(18);
			UNPACK_CASE(19);
			UNPACK_CASE(20);
		default:
			for (g = 0; g < ngroups; g++)
				unpack8_32(in + g * bw, out + g * 8, bw);
			break;
	}
#undef UNPACK_CASE
}

int
PqBitWidth(uint32_t max_value)
{
	return max_value == 0 ? 0 : 32 - __builtin_clz(max_value);
}

size_t
PqValueSize(PqType type)
{
	switch (type)
	{
		case PQ_BOOLEAN:
			return sizeof(uint8_t);
		case PQ_INT32:
			return sizeof(int32_t);
		case PQ_INT64:
			return sizeof(int64_t);
		case PQ_INT96:
			return sizeof(PqInt96);
		case PQ_FLOAT:
			return sizeof(float);
		case PQ_DOUBLE:
			return sizeof(double);
		case PQ_BYTE_ARRAY:
		case PQ_FIXED_LEN_BYTE_ARRAY:
			return sizeof(PqBytes);
	}
	return 0;
}

const char *
PqEncodingName(PqEncoding enc)
{
	switch (enc)
	{
		case PQ_ENC_PLAIN:
			return "PLAIN";
		case PQ_ENC_PLAIN_DICTIONARY:
			return "PLAIN_DICTIONARY";
		case PQ_ENC_RLE:
			return "RLE";
		case PQ_ENC_BIT_PACKED:
			return "BIT_PACKED";
		case PQ_ENC_DELTA_BINARY_PACKED:
			return "DELTA_BINARY_PACKED";
		case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
			return "DELTA_LENGTH_BYTE_ARRAY";
		case PQ_ENC_DELTA_BYTE_ARRAY:
			return "DELTA_BYTE_ARRAY";
		case PQ_ENC_RLE_DICTIONARY:
			return "RLE_DICTIONARY";
		case PQ_ENC_BYTE_STREAM_SPLIT:
			return "BYTE_STREAM_SPLIT";
	}
	return "UNKNOWN_ENCODING";
}

/* metadata.c has PqTypeName; this file links without it (unit test, fuzz) */
static const char *
type_name(PqType type)
{
	static const char *const names[] = {
		"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
		"BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"
	};

	if ((unsigned) type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "UNKNOWN_TYPE";
}

/* ---------------------------------------------------------------------
 * RLE / bit-packed hybrid
 * ---------------------------------------------------------------------
 */

void
PqRleInit(PqRle *rle, const uint8_t *buf, size_t len, int bit_width)
{
	rle->p = buf;
	rle->end = buf + len;
	rle->bit_width = bit_width;
	rle->run_value = 0;
	rle->run_left = 0;
	rle->packed_left = 0;
	rle->packed = NULL;
	rle->packed_bit = 0;
}

/* Read the next run's header (and an RLE run's value). */
static bool
rle_next_run(PqRle *rle, TelemError *err)
{
	uint64_t	h;
	int			bw = rle->bit_width;

	if (rle->p >= rle->end)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "rle data ends before all values were read");
	if (!read_uvarint(&rle->p, rle->end, &h) || h > UINT32_MAX)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "rle run header is truncated or too large");
	if (h & 1)
	{
		uint64_t	nvals = (h >> 1) * 8;
		size_t		avail = (size_t) (rle->end - rle->p);
		uint64_t	bytes = (h >> 1) * (uint64_t) bw;

		/*
		 * The last run of a page may be cut short after its last value (some
		 * writers do); take the values whose bits are all present.
		 */
		if (bytes > avail)
		{
			nvals = (uint64_t) avail * 8 / (uint64_t) bw;
			bytes = avail;
		}
		rle->packed = rle->p;
		rle->packed_bit = 0;
		rle->packed_left = (int64_t) nvals;
		rle->p += bytes;
	}
	else
	{
		int			nbytes = (bw + 7) / 8;
		uint32_t	v = 0;
		int			i;

		if (rle->end - rle->p < nbytes)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "rle run value is truncated");
		for (i = 0; i < nbytes; i++)
			v |= (uint32_t) rle->p[i] << (8 * i);
		if (bw < 32 && (v >> bw) != 0)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "rle run value %u does not fit bit width %d",
								 v, bw);
		rle->p += nbytes;
		rle->run_value = v;
		rle->run_left = (int64_t) (h >> 1);
	}
	return true;
}

/* Take k (<= packed_left) values of the current bit-packed run. */
static void
rle_unpack(PqRle *rle, uint32_t *out, int64_t k)
{
	int			bw = rle->bit_width;
	int			group_bits = 8 * bw;

	rle->packed_left -= k;
	if (bw == 0)
	{
		memset(out, 0, (size_t) k * sizeof(uint32_t));
		return;
	}

	/* finish a group a previous call left half done */
	while (k > 0 && rle->packed_bit != 0)
	{
		*out++ = (uint32_t) get_bits(rle->packed, (uint64_t) rle->packed_bit, bw);
		k--;
		rle->packed_bit += bw;
		if (rle->packed_bit == group_bits)
		{
			rle->packed += bw;
			rle->packed_bit = 0;
		}
	}

	/* whole groups, wide loads while 8 bytes of slack remain */
	if (k >= 8)
	{
		int64_t		ngroups = k / 8;
		int64_t		fast = 0;
		size_t		avail = (size_t) (rle->end - rle->packed);

		if (avail >= (size_t) bw + 8)
			fast = (int64_t) ((avail - bw - 8) / (size_t) bw) + 1;
		if (fast > ngroups)
			fast = ngroups;
		unpack_groups_32(rle->packed, out, fast, bw);
		rle->packed += fast * bw;
		out += fast * 8;
		k -= fast * 8;
		for (; fast < ngroups; fast++)
		{
			int			j;

			for (j = 0; j < 8; j++)
				out[j] = (uint32_t) get_bits(rle->packed, (uint64_t) (j * bw), bw);
			rle->packed += bw;
			out += 8;
			k -= 8;
		}
	}

	/* the start of a group */
	while (k > 0)
	{
		*out++ = (uint32_t) get_bits(rle->packed, (uint64_t) rle->packed_bit, bw);
		k--;
		rle->packed_bit += bw;
	}
}

bool
PqRleGet(PqRle *rle, uint32_t *out, int64_t n, TelemError *err)
{
	if (rle->bit_width < 0 || rle->bit_width > 32)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "rle bit width %d is out of range", rle->bit_width);
	while (n > 0)
	{
		int64_t		k;

		if (rle->run_left > 0)
		{
			uint32_t	v = rle->run_value;
			int64_t		i;

			k = rle->run_left < n ? rle->run_left : n;
			for (i = 0; i < k; i++)
				out[i] = v;
			rle->run_left -= k;
		}
		else if (rle->packed_left > 0)
		{
			k = rle->packed_left < n ? rle->packed_left : n;
			rle_unpack(rle, out, k);
		}
		else
		{
			if (!rle_next_run(rle, err))
				return false;
			continue;
		}
		out += k;
		n -= k;
	}
	return true;
}

/* ---------------------------------------------------------------------
 * Levels
 * ---------------------------------------------------------------------
 */

/* Deprecated BIT_PACKED levels: MSB-first, no header. */
static bool
decode_bit_packed_levels(int bw, int max_level, const uint8_t *buf,
						 size_t len, int64_t n, int16_t *out,
						 size_t *consumed, TelemError *err)
{
	uint64_t	bytes = ((uint64_t) n * (uint64_t) bw + 7) / 8;
	uint64_t	bit = 0;
	int64_t		i;

	if ((uint64_t) n > (uint64_t) len * 8 || bytes > len)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "bit-packed levels need %llu bytes, %zu present",
							 (unsigned long long) bytes, len);
	for (i = 0; i < n; i++)
	{
		uint32_t	v = 0;
		int			b;

		for (b = 0; b < bw; b++, bit++)
			v = (v << 1) | ((buf[bit >> 3] >> (7 - (bit & 7))) & 1);
		if (v > (uint32_t) max_level)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "level %u above the maximum %d at level %lld",
								 v, max_level, (long long) i);
		out[i] = (int16_t) v;
	}
	*consumed = (size_t) bytes;
	return true;
}

bool
PqDecodeLevels(PqEncoding enc, int max_level,
			   const uint8_t *buf, size_t len, bool length_prefixed,
			   int64_t n, int16_t *out, size_t *consumed,
			   TelemError *err)
{
	int			bw;
	PqRle		rle;
	size_t		start = 0;
	uint32_t	tmp[CHUNK_VALUES];
	int64_t		done = 0;
	size_t		dummy;

	if (consumed == NULL)
		consumed = &dummy;
	*consumed = 0;
	if (max_level < 1 || max_level > INT16_MAX)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "maximum level %d is out of range", max_level);
	if (n < 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "negative level count %lld", (long long) n);
	bw = PqBitWidth((uint32_t) max_level);

	if (enc == PQ_ENC_BIT_PACKED)
		return decode_bit_packed_levels(bw, max_level, buf, len, n, out,
										consumed, err);
	if (enc != PQ_ENC_RLE)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "unsupported: %s for levels",
							 PqEncodingName(enc));

	if (length_prefixed)
	{
		uint32_t	l;

		if (len < 4)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "levels length prefix is truncated (%zu bytes)",
								 len);
		l = load32(buf);
		if (l > len - 4)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "levels length %u exceeds the %zu bytes left",
								 l, len - 4);
		start = 4;
		len = 4 + (size_t) l;
	}
	PqRleInit(&rle, buf + start, len - start, bw);
	while (done < n)
	{
		int64_t		k = n - done < CHUNK_VALUES ? n - done : CHUNK_VALUES;
		uint32_t	bad = 0;
		int64_t		i;

		if (!PqRleGet(&rle, tmp, k, err))
			return false;
		for (i = 0; i < k; i++)
		{
			bad |= tmp[i] > (uint32_t) max_level;
			out[done + i] = (int16_t) tmp[i];
		}
		if (bad)
		{
			for (i = 0; tmp[i] <= (uint32_t) max_level; i++)
				;
			return TelemSetError(err, TELEM_ERR_DATA,
								 "level %u above the maximum %d at level %lld",
								 tmp[i], max_level, (long long) (done + i));
		}
		done += k;
	}
	*consumed = length_prefixed ? len : (size_t) (rle.p - buf);
	return true;
}

/* ---------------------------------------------------------------------
 * DELTA_BINARY_PACKED, as a reader the byte-array encodings share
 * ---------------------------------------------------------------------
 */

typedef struct DeltaReader
{
	const uint8_t *start;		/* for error offsets */
	const uint8_t *p;			/* next unread byte (block header or body) */
	const uint8_t *end;
	uint64_t	mini_values;	/* values per miniblock (multiple of 32) */
	uint32_t	nmini;			/* miniblocks per block */
	uint64_t	total;			/* values in the header */
	uint64_t	left;			/* values not yet returned */
	bool		first_pending;	/* the header's first value not returned */
	uint64_t	last;			/* the previous value, wrapping */
	uint64_t	min_delta;		/* of the current block */
	const uint8_t *widths;		/* of the current block's miniblocks */
	uint32_t	mini_idx;		/* current miniblock; nmini: no block open */
	const uint8_t *mini;		/* current miniblock's data */
	int			bw;
	uint64_t	mini_pos;		/* values taken from the current miniblock */
	uint64_t	mini_avail;		/* values it holds for us */
} DeltaReader;

static bool
delta_init(DeltaReader *d, const uint8_t *buf, size_t len, TelemError *err)
{
	uint64_t	block_size,
				nmini,
				total,
				first;

	memset(d, 0, sizeof(*d));
	d->start = buf;
	d->p = buf;
	d->end = buf + len;
	if (!read_uvarint(&d->p, d->end, &block_size) ||
		!read_uvarint(&d->p, d->end, &nmini) ||
		!read_uvarint(&d->p, d->end, &total) ||
		!read_uvarint(&d->p, d->end, &first))
		return TelemSetError(err, TELEM_ERR_DATA,
							 "delta header is truncated (%zu bytes)", len);
	if (block_size == 0 || block_size % 128 != 0 || block_size > INT32_MAX ||
		nmini == 0 || block_size % nmini != 0 ||
		(block_size / nmini) % 32 != 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "invalid delta block size %llu with %llu miniblocks",
							 (unsigned long long) block_size,
							 (unsigned long long) nmini);
	d->mini_values = block_size / nmini;
	d->nmini = (uint32_t) nmini;
	d->total = total;
	d->left = total;
	d->first_pending = total > 0;
	d->last = unzigzag(first);
	d->mini_idx = d->nmini;
	return true;
}

/* Open the next miniblock (a new block when the current one is done). */
static bool
delta_next_mini(DeltaReader *d, TelemError *err)
{
	uint64_t	vals,
				full,
				need;
	size_t		avail;

	if (++d->mini_idx >= d->nmini)
	{
		uint64_t	md;

		if (!read_uvarint(&d->p, d->end, &md))
			return TelemSetError(err, TELEM_ERR_DATA,
								 "delta block header is truncated at byte %zu",
								 (size_t) (d->p - d->start));
		if ((size_t) (d->end - d->p) < d->nmini)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "delta miniblock widths are truncated at byte %zu",
								 (size_t) (d->p - d->start));
		d->min_delta = unzigzag(md);
		d->widths = d->p;
		d->p += d->nmini;
		d->mini_idx = 0;
	}
	d->bw = d->widths[d->mini_idx];
	if (d->bw > 64)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "delta miniblock bit width %d above 64 at byte %zu",
							 d->bw, (size_t) (d->widths + d->mini_idx - d->start));
	vals = d->left < d->mini_values ? d->left : d->mini_values;
	full = d->mini_values * (uint64_t) d->bw / 8;
	need = (vals * (uint64_t) d->bw + 7) / 8;
	avail = (size_t) (d->end - d->p);
	if (need > avail)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "delta miniblock at byte %zu needs %llu bytes, %zu present",
							 (size_t) (d->p - d->start),
							 (unsigned long long) need, avail);
	d->mini = d->p;

	/* the last miniblock's padding may be missing */
	d->p += full < avail ? full : avail;
	d->mini_pos = 0;
	d->mini_avail = vals;
	return true;
}

/*
 * Next n values (n <= d->left) into o32 (INT32, wrapping to 32 bits) or
 * o64, whichever is not NULL.
 */
static bool
delta_read(DeltaReader *d, int64_t n, int32_t *o32, int64_t *o64,
		   TelemError *err)
{
	int64_t		i = 0;

	if (n <= 0)
		return true;
	if ((uint64_t) n > d->left)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "delta data holds %llu more values, %lld asked",
							 (unsigned long long) d->left, (long long) n);
	if (d->first_pending)
	{
		if (o32)
			o32[0] = (int32_t) (uint32_t) d->last;
		else
			o64[0] = (int64_t) d->last;
		d->first_pending = false;
		d->left--;
		i = 1;
	}
	while (i < n)
	{
		uint64_t	k,
					pos,
					last,
					md;
		const uint8_t *base;
		int			bw;

		if (d->mini_pos == d->mini_avail && !delta_next_mini(d, err))
			return false;
		k = d->mini_avail - d->mini_pos;
		if (k > (uint64_t) (n - i))
			k = (uint64_t) (n - i);
		d->left -= k;
		pos = d->mini_pos;
		d->mini_pos += k;
		base = d->mini;
		bw = d->bw;
		last = d->last;
		md = d->min_delta;

		while (k > 0 && ((pos & 7) != 0 || k < 8))
		{
			last += md + get_bits(base, pos * (uint64_t) bw, bw);
			if (o32)
				o32[i] = (int32_t) (uint32_t) last;
			else
				o64[i] = (int64_t) last;
			i++;
			pos++;
			k--;
		}
		while (k >= 8)
		{
			uint64_t	tmp[8];
			const uint8_t *g = base + (pos >> 3) * (uint64_t) bw;
			int			j;

			if (bw == 0)
				memset(tmp, 0, sizeof(tmp));
			else if ((size_t) (d->end - g) >= (size_t) bw + 9)
				unpack8_64(g, tmp, bw);
			else
				for (j = 0; j < 8; j++)
					tmp[j] = get_bits(g, (uint64_t) (j * bw), bw);
			if (o32)
				for (j = 0; j < 8; j++)
				{
					last += md + tmp[j];
					o32[i + j] = (int32_t) (uint32_t) last;
				}
			else
				for (j = 0; j < 8; j++)
				{
					last += md + tmp[j];
					o64[i + j] = (int64_t) last;
				}
			i += 8;
			pos += 8;
			k -= 8;
			/* a tail of fewer than 8 goes one by one */
			while (k > 0 && k < 8)
			{
				last += md + get_bits(base, pos * (uint64_t) bw, bw);
				if (o32)
					o32[i] = (int32_t) (uint32_t) last;
				else
					o64[i] = (int64_t) last;
				i++;
				pos++;
				k--;
			}
		}
		d->last = last;
	}
	return true;
}

/* Walk past the values not yet read without decoding them. */
static bool
delta_skip_rest(DeltaReader *d, TelemError *err)
{
	if (d->first_pending && d->left > 0)
	{
		d->first_pending = false;
		d->left--;
	}
	d->left -= d->mini_avail - d->mini_pos;
	d->mini_pos = d->mini_avail;
	while (d->left > 0)
	{
		if (!delta_next_mini(d, err))
			return false;
		d->left -= d->mini_avail;
		d->mini_pos = d->mini_avail;
	}
	return true;
}

/* Check the header's count against the values the page holds. */
static bool
delta_check_count(const DeltaReader *d, int64_t n, const char *what,
				  TelemError *err)
{
	if (d->total != (uint64_t) n)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "%s header has %llu values, the page %lld",
							 what, (unsigned long long) d->total,
							 (long long) n);
	return true;
}

static bool
decode_delta_binary(PqType type, const uint8_t *buf, size_t len, int64_t n,
					void *out, size_t *consumed, TelemError *err)
{
	DeltaReader d;

	if (!delta_init(&d, buf, len, err) ||
		!delta_check_count(&d, n, "delta", err) ||
		!delta_read(&d, n, type == PQ_INT32 ? out : NULL,
					type == PQ_INT64 ? out : NULL, err))
		return false;
	*consumed = (size_t) (d.p - buf);
	return true;
}

/*
 * Lengths from a DELTA reader, CHUNK_VALUES at a time; a length must be
 * 0..INT32_MAX.
 */
static bool
delta_lengths(DeltaReader *d, int64_t k, int32_t *lens, const char *what,
			  TelemError *err)
{
	int64_t		i;
	int32_t		neg = 0;

	if (!delta_read(d, k, lens, NULL, err))
		return false;
	for (i = 0; i < k; i++)
		neg |= lens[i];
	if (neg < 0)
		return TelemSetError(err, TELEM_ERR_DATA, "negative %s length", what);
	return true;
}

static bool
decode_delta_length(const uint8_t *buf, size_t len, int64_t n, PqBytes *out,
					size_t *consumed, TelemError *err)
{
	DeltaReader d,
				skip;
	const uint8_t *data;
	size_t		left;
	int32_t		lens[CHUNK_VALUES];
	int64_t		done = 0;

	if (!delta_init(&d, buf, len, err) ||
		!delta_check_count(&d, n, "delta length", err))
		return false;
	/* the bytes start where the lengths end */
	skip = d;
	if (!delta_skip_rest(&skip, err))
		return false;
	data = skip.p;
	left = (size_t) (buf + len - data);

	while (done < n)
	{
		int64_t		k = n - done < CHUNK_VALUES ? n - done : CHUNK_VALUES;
		int64_t		i;

		if (!delta_lengths(&d, k, lens, "byte array", err))
			return false;
		for (i = 0; i < k; i++)
		{
			uint32_t	l = (uint32_t) lens[i];

			if (l > left)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "byte array %lld of %u bytes runs past the end at byte %zu",
									 (long long) (done + i), l,
									 (size_t) (data - buf));
			out[done + i].ptr = data;
			out[done + i].len = l;
			data += l;
			left -= l;
		}
		done += k;
	}
	*consumed = (size_t) (data - buf);
	return true;
}

static bool
decode_delta_byte_array(PqType type, int32_t type_length,
						const uint8_t *buf, size_t len, int64_t n,
						PqBytes *out, PqArena *arena, size_t *consumed,
						TelemError *err)
{
	DeltaReader pre,
				suf,
				skip;
	const uint8_t *data;
	size_t		left;
	int32_t		plens[CHUNK_VALUES];
	int32_t		slens[CHUNK_VALUES];
	int64_t		done = 0;
	PqBytes		prev = {NULL, 0};
	uint64_t	built = 0;

	if (!delta_init(&pre, buf, len, err) ||
		!delta_check_count(&pre, n, "delta prefix", err))
		return false;
	skip = pre;
	if (!delta_skip_rest(&skip, err))
		return false;
	if (!delta_init(&suf, skip.p, (size_t) (buf + len - skip.p), err) ||
		!delta_check_count(&suf, n, "delta suffix", err))
		return false;
	skip = suf;
	if (!delta_skip_rest(&skip, err))
		return false;
	data = skip.p;
	left = (size_t) (buf + len - data);

	while (done < n)
	{
		int64_t		k = n - done < CHUNK_VALUES ? n - done : CHUNK_VALUES;
		int64_t		i;

		if (!delta_lengths(&pre, k, plens, "prefix", err) ||
			!delta_lengths(&suf, k, slens, "suffix", err))
			return false;
		for (i = 0; i < k; i++)
		{
			uint32_t	pl = (uint32_t) plens[i];
			uint32_t	sl = (uint32_t) slens[i];
			PqBytes    *o = &out[done + i];

			if (pl > prev.len)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "delta byte array value %lld: prefix of %u bytes, previous value has %u",
									 (long long) (done + i), pl, prev.len);
			if (sl > left)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "delta byte array value %lld: suffix of %u bytes runs past the end at byte %zu",
									 (long long) (done + i), sl,
									 (size_t) (data - buf));
			if ((uint64_t) pl + sl > INT32_MAX)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "delta byte array value %lld is too long",
									 (long long) (done + i));
			if (type == PQ_FIXED_LEN_BYTE_ARRAY &&
				pl + sl != (uint32_t) type_length)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "delta byte array value %lld has %u bytes, the column's length is %d",
									 (long long) (done + i), pl + sl,
									 type_length);
			if (pl == 0)
				o->ptr = data;	/* the suffix itself */
			else if (sl == 0)
				o->ptr = prev.ptr;	/* a prefix of the previous value */
			else
			{
				uint8_t    *v;

				built += (uint64_t) pl + sl;
				if (built > DELTA_BUILD_MAX ||
					(v = PqArenaAlloc(arena, (size_t) pl + sl)) == NULL)
					return TelemSetError(err, TELEM_ERR_DATA,
										 "delta byte array values exceed %llu bytes or memory",
										 (unsigned long long) DELTA_BUILD_MAX);
				memcpy(v, prev.ptr, pl);
				memcpy(v + pl, data, sl);
				o->ptr = v;
			}
			o->len = pl + sl;
			data += sl;
			left -= sl;
			prev = *o;
		}
		done += k;
	}
	*consumed = (size_t) (data - buf);
	return true;
}

/* ---------------------------------------------------------------------
 * PLAIN, RLE booleans, BYTE_STREAM_SPLIT
 * ---------------------------------------------------------------------
 */

static bool
too_short(TelemError *err, const char *what, int64_t n, uint64_t need,
		  size_t len)
{
	return TelemSetError(err, TELEM_ERR_DATA,
						 "%lld %s values need %llu bytes, %zu present",
						 (long long) n, what, (unsigned long long) need, len);
}

static bool
decode_plain(PqType type, int32_t type_length, const uint8_t *buf,
			 size_t len, int64_t n, void *out, size_t *consumed,
			 TelemError *err)
{
	uint64_t	un = (uint64_t) n;

	switch (type)
	{
		case PQ_BOOLEAN:
			{
				uint64_t	bytes = (un + 7) / 8;
				uint8_t    *o = out;
				int64_t		i;

				if (bytes > len)
					return too_short(err, "BOOLEAN", n, bytes, len);
				for (i = 0; i + 8 <= n; i += 8)
				{
					uint8_t		b = buf[i >> 3];

					o[i] = b & 1;
					o[i + 1] = (b >> 1) & 1;
					o[i + 2] = (b >> 2) & 1;
					o[i + 3] = (b >> 3) & 1;
					o[i + 4] = (b >> 4) & 1;
					o[i + 5] = (b >> 5) & 1;
					o[i + 6] = (b >> 6) & 1;
					o[i + 7] = (b >> 7) & 1;
				}
				for (; i < n; i++)
					o[i] = (buf[i >> 3] >> (i & 7)) & 1;
				*consumed = (size_t) bytes;
				return true;
			}
		case PQ_INT32:
		case PQ_FLOAT:
		case PQ_INT64:
		case PQ_DOUBLE:
			{
				size_t		w = PqValueSize(type);

				if (un > len / w)
					return too_short(err, type_name(type), n, un * w, len);
				if (n > 0)
					memcpy(out, buf, (size_t) un * w);
				*consumed = (size_t) un * w;
				return true;
			}
		case PQ_INT96:
			{
				PqInt96    *o = out;
				int64_t		i;

				if (un > len / 12)
					return too_short(err, "INT96", n, un * 12, len);
				for (i = 0; i < n; i++)
				{
					memcpy(&o[i].nanos, buf + 12 * i, 8);
					memcpy(&o[i].julian_day, buf + 12 * i + 8, 4);
				}
				*consumed = (size_t) un * 12;
				return true;
			}
		case PQ_BYTE_ARRAY:
			{
				PqBytes    *o = out;
				const uint8_t *p = buf;
				const uint8_t *end = buf + len;
				int64_t		i;

				for (i = 0; i < n; i++)
				{
					uint32_t	l;

					if (end - p < 4)
						return TelemSetError(err, TELEM_ERR_DATA,
											 "byte array %lld: length truncated at byte %zu",
											 (long long) i, (size_t) (p - buf));
					l = load32(p);
					p += 4;
					if (l > (size_t) (end - p))
						return TelemSetError(err, TELEM_ERR_DATA,
											 "byte array %lld of %u bytes runs past the end at byte %zu",
											 (long long) i, l,
											 (size_t) (p - buf));
					o[i].ptr = p;
					o[i].len = l;
					p += l;
				}
				*consumed = (size_t) (p - buf);
				return true;
			}
		case PQ_FIXED_LEN_BYTE_ARRAY:
			{
				PqBytes    *o = out;
				size_t		w = (size_t) type_length;
				int64_t		i;

				if (un > len / w)
					return too_short(err, "FIXED_LEN_BYTE_ARRAY", n, un * w, len);
				for (i = 0; i < n; i++)
				{
					o[i].ptr = buf + (size_t) i * w;
					o[i].len = (uint32_t) w;
				}
				*consumed = (size_t) un * w;
				return true;
			}
	}
	return TelemSetError(err, TELEM_ERR_DATA, "unsupported: PLAIN for %s",
						 type_name(type));
}

/* RLE booleans: a 4-byte length, then the hybrid at bit width 1. */
static bool
decode_rle_boolean(const uint8_t *buf, size_t len, int64_t n, uint8_t *out,
				   size_t *consumed, TelemError *err)
{
	uint32_t	l;
	PqRle		rle;
	uint32_t	tmp[CHUNK_VALUES];
	int64_t		done = 0;

	if (len < 4)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "rle boolean length prefix is truncated (%zu bytes)",
							 len);
	l = load32(buf);
	if (l > len - 4)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "rle boolean length %u exceeds the %zu bytes left",
							 l, len - 4);
	PqRleInit(&rle, buf + 4, l, 1);
	while (done < n)
	{
		int64_t		k = n - done < CHUNK_VALUES ? n - done : CHUNK_VALUES;
		int64_t		i;

		if (!PqRleGet(&rle, tmp, k, err))
			return false;
		for (i = 0; i < k; i++)
			out[done + i] = (uint8_t) tmp[i];
		done += k;
	}
	*consumed = 4 + (size_t) l;
	return true;
}

static bool
decode_byte_stream_split(PqType type, int32_t type_length,
						 const uint8_t *buf, size_t len, int64_t n,
						 void *out, PqArena *arena, size_t *consumed,
						 TelemError *err)
{
	size_t		k = type == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t) type_length :
		PqValueSize(type);
	size_t		un = (size_t) n;
	uint8_t    *dst;
	size_t		i,
				s;

	if ((uint64_t) n > len / k)
		return too_short(err, type_name(type), n, (uint64_t) n * k, len);
	if (n == 0)
		return true;
	if (type == PQ_FIXED_LEN_BYTE_ARRAY)
	{
		dst = PqArenaAlloc(arena, un * k);
		if (dst == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory for %zu byte stream split bytes",
								 un * k);
	}
	else
		dst = out;

	if (k == 4)
	{
		const uint8_t *s0 = buf,
				   *s1 = buf + un,
				   *s2 = buf + 2 * un,
				   *s3 = buf + 3 * un;

		for (i = 0; i < un; i++)
		{
			uint32_t	v = (uint32_t) s0[i] | (uint32_t) s1[i] << 8 |
				(uint32_t) s2[i] << 16 | (uint32_t) s3[i] << 24;

			memcpy(dst + 4 * i, &v, 4);
		}
	}
	else if (k == 8)
	{
		for (i = 0; i < un; i++)
		{
			uint64_t	v = 0;

			for (s = 0; s < 8; s++)
				v |= (uint64_t) buf[s * un + i] << (8 * s);
			memcpy(dst + 8 * i, &v, 8);
		}
	}
	else
	{
		for (s = 0; s < k; s++)
		{
			const uint8_t *src = buf + s * un;

			for (i = 0; i < un; i++)
				dst[i * k + s] = src[i];
		}
	}

	if (type == PQ_FIXED_LEN_BYTE_ARRAY)
	{
		PqBytes    *o = out;

		for (i = 0; i < un; i++)
		{
			o[i].ptr = dst + i * k;
			o[i].len = (uint32_t) k;
		}
	}
	*consumed = un * k;
	return true;
}

bool
PqDecodeValues(PqEncoding enc, PqType type, int32_t type_length,
			   const uint8_t *buf, size_t len, int64_t n,
			   void *out, PqArena *arena, size_t *consumed,
			   TelemError *err)
{
	size_t		dummy;

	if (consumed == NULL)
		consumed = &dummy;
	*consumed = 0;
	if (n < 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "negative value count %lld", (long long) n);
	if (type == PQ_FIXED_LEN_BYTE_ARRAY && type_length <= 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "invalid FIXED_LEN_BYTE_ARRAY length %d",
							 type_length);
	if (buf == NULL)
	{
		/* only an empty page may come without bytes */
		static const uint8_t empty[1];

		buf = empty;
		len = 0;
	}

	switch (enc)
	{
		case PQ_ENC_PLAIN:
			return decode_plain(type, type_length, buf, len, n, out,
								consumed, err);
		case PQ_ENC_RLE:
			if (type == PQ_BOOLEAN)
				return decode_rle_boolean(buf, len, n, out, consumed, err);
			break;
		case PQ_ENC_DELTA_BINARY_PACKED:
			if (type == PQ_INT32 || type == PQ_INT64)
				return decode_delta_binary(type, buf, len, n, out,
										   consumed, err);
			break;
		case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
			if (type == PQ_BYTE_ARRAY)
				return decode_delta_length(buf, len, n, out, consumed, err);
			break;
		case PQ_ENC_DELTA_BYTE_ARRAY:
			if (type == PQ_BYTE_ARRAY || type == PQ_FIXED_LEN_BYTE_ARRAY)
				return decode_delta_byte_array(type, type_length, buf, len,
											   n, out, arena, consumed, err);
			break;
		case PQ_ENC_BYTE_STREAM_SPLIT:
			if (type == PQ_FLOAT || type == PQ_DOUBLE || type == PQ_INT32 ||
				type == PQ_INT64 || type == PQ_FIXED_LEN_BYTE_ARRAY)
				return decode_byte_stream_split(type, type_length, buf, len,
												n, out, arena, consumed, err);
			break;
		default:
			break;
	}
	return TelemSetError(err, TELEM_ERR_DATA, "unsupported: %s for %s",
						 PqEncodingName(enc), type_name(type));
}
