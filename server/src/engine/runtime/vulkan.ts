// Whether the Vulkan loader can be found on Linux, where onnxruntime-node's WebGPU provider (Dawn) needs it.
// Without it Dawn writes "Couldn't load Vulkan" to the process's stderr from native code, which the editor
// shows as an error, before the provider fails; `auto` asks here first and passes webgpu over quietly.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const LOADER = 'libvulkan.so.1';

/** The folders the dynamic linker searches: LD_LIBRARY_PATH, ld.so.conf(.d), and the usual ones. */
function linkerFolders(): string[] {
  const out = (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  const conf = (file: string, depth: number): void => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc && depth < 3) {
        const pattern = inc[1]!.trim();
        const dir = path.dirname(pattern);
        const suffix = path.basename(pattern).replace(/^\*/, '');
        try {
          for (const f of readdirSync(dir)) if (f.endsWith(suffix)) conf(path.join(dir, f), depth + 1);
        } catch {
          // an include of a folder that is not there adds nothing
        }
      } else if (line.startsWith('/')) out.push(line);
    }
  };
  conf('/etc/ld.so.conf', 0);
  return [...out, '/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];
}

let present: boolean | undefined;

/**
 * False only where Vulkan surely cannot load (Linux without its loader); elsewhere WebGPU is tried. Looked
 * up once per process: `auto` asks at every session it creates.
 */
export function vulkanLoaderPresent(): boolean {
  present ??= process.platform !== 'linux' || linkerFolders().some((d) => existsSync(path.join(d, LOADER)));
  return present;
}
