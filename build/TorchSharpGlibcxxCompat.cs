// Makes TorchSharp's native glue library load on hosts whose libstdc++ predates GCC 13.
//
// libLibTorchSharp.so (TorchSharp-cpu 0.107.0) lists GLIBCXX_3.4.32 among the versions it needs from
// libstdc++.so.6. Debian 12 and Ubuntu 22.04 ship GCC 12's libstdc++ (up to GLIBCXX_3.4.30), so the
// dynamic loader refuses the library. The only symbol bound to that version is
// _ZSt21ios_base_library_initv, an anchor no relocation uses, so marking the requirement weak
// (VER_FLG_WEAK on its Vernaux entry) lets the loader accept the library without changing what it runs.
// The build applies this to the copy in its own output only, and only when the host lacks the version.
using System;
using System.IO;
using System.Text;

namespace ModelService.Build
{
    public static class ElfVersionNeeds
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Returns the vna_flags of the requirement on <paramref name="version"/>, or null when the file has none.</summary>
        public static ushort? ReadFlags(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindVernauxFlagsOffset(bytes, version);
            return offset < 0 ? null : BitConverter.ToUInt16(bytes, offset);
        }

        /// <summary>Marks the requirement on <paramref name="version"/> weak in place; true when the file changed.</summary>
        public static bool MarkWeak(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindVernauxFlagsOffset(bytes, version);
            if (offset < 0)
            {
                return false;
            }
            var flags = BitConverter.ToUInt16(bytes, offset);
            if ((flags & VerFlagWeak) != 0)
            {
                return false;
            }
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                file.Seek(offset, SeekOrigin.Begin);
                file.Write(BitConverter.GetBytes((ushort)(flags | VerFlagWeak)), 0, 2);
            }
            return true;
        }

        /// <summary>True when a libstdc++ image defines <paramref name="version"/> (its name appears in the file).</summary>
        public static bool LibraryDefines(string libraryPath, string version)
        {
            var haystack = File.ReadAllBytes(libraryPath);
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            // The task compiles against netstandard, which has no span search.
            for (var i = 0; i + needle.Length <= haystack.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }
                if (j == needle.Length)
                {
                    return true;
                }
            }
            return false;
        }

        private static int FindVernauxFlagsOffset(byte[] elf, string version)
        {
            // Only little-endian ELF64 is produced for the platforms TorchSharp supports on Linux.
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException("Not a little-endian ELF64 file.");
            }
            var sectionTable = checked((int)BitConverter.ToUInt64(elf, 0x28));
            var sectionSize = BitConverter.ToUInt16(elf, 0x3A);
            var sectionCount = BitConverter.ToUInt16(elf, 0x3C);
            for (var i = 0; i < sectionCount; i++)
            {
                var header = sectionTable + i * sectionSize;
                if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed)
                {
                    continue;
                }
                var verneed = checked((int)BitConverter.ToUInt64(elf, header + 0x18));
                var stringsHeader = sectionTable + (int)BitConverter.ToUInt32(elf, header + 0x28) * sectionSize;
                var strings = checked((int)BitConverter.ToUInt64(elf, stringsHeader + 0x18));
                var needCount = BitConverter.ToUInt32(elf, header + 0x2C);
                for (var need = 0; need < needCount; need++)
                {
                    var auxCount = BitConverter.ToUInt16(elf, verneed + 2);
                    var aux = verneed + (int)BitConverter.ToUInt32(elf, verneed + 8);
                    for (var a = 0; a < auxCount; a++)
                    {
                        var name = ReadString(elf, strings + (int)BitConverter.ToUInt32(elf, aux + 8));
                        if (name == version)
                        {
                            return aux + 4;
                        }
                        aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                    }
                    verneed += (int)BitConverter.ToUInt32(elf, verneed + 12);
                }
            }
            return -1;
        }

        private static string ReadString(byte[] elf, int start)
        {
            var end = Array.IndexOf(elf, (byte)0, start);
            return Encoding.ASCII.GetString(elf, start, end - start);
        }
    }

#if !ELF_PATCHER_TESTS
    /// <summary>MSBuild task: weakens the GLIBCXX requirement of the given libraries when the host libstdc++ lacks it.</summary>
    public sealed class WeakenMissingGlibcxxVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string Version { get; set; } = "";

        public string HostLibStdCxx { get; set; } = "";

        public override bool Execute()
        {
            if (string.IsNullOrEmpty(HostLibStdCxx) || !File.Exists(HostLibStdCxx)
                || ElfVersionNeeds.LibraryDefines(HostLibStdCxx, Version))
            {
                return true;
            }
            foreach (var library in Libraries)
            {
                if (File.Exists(library.ItemSpec) && ElfVersionNeeds.MarkWeak(library.ItemSpec, Version))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        "{0}: host libstdc++ lacks {1}; marked that version requirement weak.", library.ItemSpec, Version);
                }
            }
            return true;
        }
    }
#endif
}
