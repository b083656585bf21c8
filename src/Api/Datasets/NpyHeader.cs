using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ModelService.Api.Errors;

namespace ModelService.Api.Datasets;

/// <summary>The header of a NumPy <c>.npy</c> array, read strictly: the magic <c>\x93NUMPY</c>, format version 1.0, 2.0 or
/// 3.0, a header length (2 bytes little-endian in 1.0, 4 in later versions) and a Python dict literal with exactly the
/// keys 'descr' (little-endian float32 or float64), 'fortran_order' (False) and 'shape' (a tuple of integers). Anything
/// else, an object dtype (pickled content) among them, is a 400 naming the array; nothing is ever unpickled.</summary>
internal sealed record NpyHeader(bool IsFloat64, IReadOnlyList<long> Shape, int Length)
{
    /// <summary>Longer headers are refused before they are read (NumPy itself writes a few hundred bytes at most).</summary>
    public const int MaxHeaderBytes = 64 * 1024;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public int ItemSize => IsFloat64 ? sizeof(double) : sizeof(float);

    /// <summary>Values in the array; overflow is reported as <see cref="long.MaxValue"/>.</summary>
    public long Elements
    {
        get
        {
            long count = 1;
            foreach (var dimension in Shape)
            {
                if (dimension != 0 && count > long.MaxValue / dimension)
                {
                    return long.MaxValue;
                }
                count *= dimension;
            }
            return count;
        }
    }

    /// <summary>Reads the header from the start of <paramref name="stream"/>, leaving it at the first data byte.
    /// <paramref name="array"/> ("x" or "y") names the array in errors.</summary>
    public static NpyHeader Read(Stream stream, string array)
    {
        Span<byte> prefix = stackalloc byte[12];
        var read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (read < 10 || !prefix.StartsWith(Magic))
        {
            throw Invalid(array, "is not a NumPy .npy array (it does not start with \\x93NUMPY); pickled or other content is refused");
        }
        var (major, minor) = (prefix[6], prefix[7]);
        int length, start;
        if (major == 1 && minor == 0)
        {
            (length, start) = (BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]), 10);
        }
        else if (major is 2 or 3 && minor == 0 && read == prefix.Length)
        {
            var declared = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            (length, start) = (declared > MaxHeaderBytes ? int.MaxValue : (int)declared, 12);
        }
        else
        {
            throw Invalid(array, $"has .npy format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are read");
        }
        if (length > MaxHeaderBytes)
        {
            throw Invalid(array, $"has a header longer than {MaxHeaderBytes} bytes");
        }
        var header = new byte[length];
        prefix[start..read].CopyTo(header);
        var copied = read - start;
        if (stream.ReadAtLeast(header.AsSpan(copied), length - copied, throwOnEndOfStream: false) < length - copied)
        {
            throw Invalid(array, "ends inside its header");
        }
        // Versions 1.0 and 2.0 write the header in Latin-1, 3.0 in UTF-8; a valid header is ASCII either way.
        var text = major == 3 ? DecodeUtf8(header, array) : Encoding.Latin1.GetString(header);
        var (isFloat64, shape) = new DictParser(text, array).Parse();
        return new NpyHeader(isFloat64, shape, start + length);
    }

    /// <summary>A version 1.0 header for a little-endian C-order array, padded so that the data starts at a multiple of
    /// 64 bytes, as NumPy writes it.</summary>
    public static byte[] Write(bool isFloat64, IReadOnlyList<int> shape)
    {
        var dims = string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var dict = $"{{'descr': '{(isFloat64 ? "<f8" : "<f4")}', 'fortran_order': False, 'shape': ({dims}{(shape.Count == 1 ? "," : "")}), }}";
        var padded = dict.PadRight(((10 + dict.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        var bytes = new byte[10 + padded.Length];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)padded.Length);
        Encoding.ASCII.GetBytes(padded, bytes.AsSpan(10));
        return bytes;
    }

    private static string DecodeUtf8(byte[] header, string array)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(array, "has a header that is not UTF-8 text");
        }
    }

    public static ApiProblemException Invalid(string array, string problem) =>
        ApiProblemException.Validation(array, $"Array '{array}' {problem}.");

    /// <summary>The one dict literal a .npy header holds, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>.
    /// Only strings, True/False and tuples of integers are understood; any other Python is refused.</summary>
    private sealed class DictParser(string text, string array)
    {
        private int _at;

        public (bool IsFloat64, long[] Shape) Parse()
        {
            string? descr = null;
            bool? fortran = null;
            long[]? shape = null;
            Expect('{');
            while (!TryTake('}'))
            {
                var key = String();
                Expect(':');
                switch (key)
                {
                    case "descr" when descr is null:
                        descr = Peek() == '[' ? throw Invalid(array, "has a structured dtype; only float32 and float64 arrays are read")
                            : String();
                        break;
                    case "fortran_order" when fortran is null:
                        fortran = Boolean();
                        break;
                    case "shape" when shape is null:
                        shape = Tuple();
                        break;
                    default:
                        throw Invalid(array, $"has an unexpected or repeated header key '{key}'");
                }
                if (!TryTake(','))
                {
                    Expect('}');
                    break;
                }
            }
            SkipSpace();
            if (_at != text.Length)
            {
                throw Invalid(array, "has text after its header dict");
            }
            if (descr is null || fortran is null || shape is null)
            {
                throw Invalid(array, "has a header without 'descr', 'fortran_order' and 'shape'");
            }
            var isFloat64 = descr switch
            {
                "<f4" or "=f4" => false,
                "<f8" or "=f8" => true,
                "|O" or "O" => throw Invalid(array, "has dtype object (pickled Python objects); these are refused, never unpickled"),
                ">f4" or ">f8" => throw Invalid(array, $"has big-endian dtype '{descr}'; save it as little-endian ('<f4' or '<f8')"),
                _ => throw Invalid(array, $"has dtype '{descr}'; only float32 ('<f4') and float64 ('<f8') are read"),
            };
            if (fortran.Value)
            {
                throw Invalid(array, "is in Fortran order; save a C-order array (numpy.ascontiguousarray)");
            }
            return (isFloat64, shape);
        }

        private string String()
        {
            var quote = Peek();
            if (quote is not ('\'' or '"'))
            {
                throw Malformed();
            }
            var end = text.IndexOf(quote, _at + 1);
            if (end < 0 || text.AsSpan(_at + 1, end - _at - 1).Contains('\\'))
            {
                throw Malformed();
            }
            var value = text[(_at + 1)..end];
            _at = end + 1;
            return value;
        }

        private bool Boolean()
        {
            SkipSpace();
            foreach (var (word, value) in (ReadOnlySpan<(string, bool)>)[("True", true), ("False", false)])
            {
                if (text.AsSpan(_at).StartsWith(word, StringComparison.Ordinal))
                {
                    _at += word.Length;
                    return value;
                }
            }
            throw Malformed();
        }

        private long[] Tuple()
        {
            Expect('(');
            var dimensions = new List<long>();
            while (!TryTake(')'))
            {
                SkipSpace();
                var start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at]))
                {
                    _at++;
                }
                if (start == _at || !long.TryParse(text.AsSpan(start, _at - start), NumberStyles.None, CultureInfo.InvariantCulture, out var dimension))
                {
                    throw Malformed();
                }
                dimensions.Add(dimension);
                if (dimensions.Count > 32)
                {
                    throw Invalid(array, "has more than 32 dimensions");
                }
                if (!TryTake(','))
                {
                    Expect(')');
                    break;
                }
            }
            return [.. dimensions];
        }

        private char Peek()
        {
            SkipSpace();
            return _at < text.Length ? text[_at] : '\0';
        }

        private bool TryTake(char c)
        {
            if (Peek() != c)
            {
                return false;
            }
            _at++;
            return true;
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Malformed();
            }
        }

        private void SkipSpace()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t' or '\n' or '\r')
            {
                _at++;
            }
        }

        private ApiProblemException Malformed() =>
            Invalid(array, $"has a header that is not a dict of 'descr', 'fortran_order' and 'shape' (near byte {_at})");
    }
}
